"""The one error the estimator raises for inputs it cannot make sense of.

It is both an ``InvalidRequest`` (so the API maps it like any other rule break,
STYLE.md rule 8) and a ``ValueError`` (so code that validates plain values can
catch it the ordinary way).
"""

from __future__ import annotations

from headstart.domain.errors import InvalidRequest


class InvalidEstimateInput(InvalidRequest, ValueError):
    """A shipment, history line or stored estimate that breaks the model's assumptions."""

    code = "invalid_estimate_input"
