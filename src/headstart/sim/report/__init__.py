"""The simulator's report: what head start earned and what it cost, as JSON and HTML."""
