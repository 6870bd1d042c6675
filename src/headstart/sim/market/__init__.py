"""The marketplace simulator: demand, sellers, shipments and buyers driving the real services.

``run_market`` plays one marketplace day by day (hour-stepped) through the same
service functions the API calls; ``run_paired`` plays it twice from one seed, with
head start and without, so the report can say what head start changed.
"""
