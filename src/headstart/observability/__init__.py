"""Seeing Head Start run (issue 8): Prometheus metrics and structured logs.

Shared by the API and the worker; the HTTP side (request ids, latency per route,
``GET /metrics``) is in ``headstart.api.observation`` and ``api.routers.metrics``.
"""
