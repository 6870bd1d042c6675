"""One exception tree for every rule the caller can break.

Each error carries a stable ``code``; ``api/errors.py`` maps codes to HTTP
statuses in one place, so routes never build HTTP errors for business rules.
"""

from __future__ import annotations


class HeadStartError(Exception):
    """Base of every error a caller can cause (never a bug)."""

    code = "invalid_request"

    def __init__(self, message: str, details: object = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class InvalidRequest(HeadStartError):
    """The request is well formed but asks for something the rules forbid."""

    code = "invalid_request"


class NotFound(HeadStartError):
    code = "not_found"


class Conflict(HeadStartError):
    """The request clashes with the current state (a duplicate id, a closed shipment)."""

    code = "conflict"


class Unavailable(HeadStartError):
    """R6: no date exists at which the requested units can be promised."""

    code = "unavailable"


class NotInStock(Unavailable):
    """An order for units on the shelf only, where only incoming units could fill it."""


class Forbidden(HeadStartError):
    code = "forbidden"


class Unauthenticated(HeadStartError):
    code = "unauthenticated"


class TooManyAttempts(HeadStartError):
    """Too many failed authentications from this client; ``details`` says when to retry."""

    code = "rate_limited"
