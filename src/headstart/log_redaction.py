"""No keys, secrets or e-mail bodies in logs (issue 7): a structlog processor.

Fields whose name says they hold a secret or a message body are replaced
whole; every other string value is scrubbed of anything that looks like a
bearer token or one of our keys, so an exception message quoting a header
cannot leak one either.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, MutableMapping
from typing import Any

REDACTED = "[redacted]"
SENSITIVE_FIELDS = re.compile(
    r"authorization|api_key|apikey|secret|password|passwd|token|cookie|body", re.IGNORECASE
)
TOKEN_PATTERNS = re.compile(
    r"(?i:bearer)\s+[A-Za-z0-9._~+/=-]+"  # an Authorization header's value
    r"|\bhs_(?:sel|sf)_[A-Za-z0-9_-]+"  # our API keys
    r"|\bwhsec_[A-Za-z0-9_-]+"  # webhook signing secrets
)


def scrub(value: Any) -> Any:
    if isinstance(value, str):
        return TOKEN_PATTERNS.sub(REDACTED, value)
    if isinstance(value, Mapping):
        return {k: REDACTED if _is_sensitive(k) else scrub(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [scrub(item) for item in value]
    return value


def _is_sensitive(name: object) -> bool:
    return isinstance(name, str) and SENSITIVE_FIELDS.search(name) is not None


def redact_secrets(
    _logger: object, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """structlog processor: run it before the renderer."""
    for name, value in list(event_dict.items()):
        if name == "event":
            event_dict[name] = scrub(value)
        elif _is_sensitive(name):
            event_dict[name] = REDACTED
        elif name != "exc_info":
            event_dict[name] = scrub(value)
    return event_dict


class RedactingFilter(logging.Filter):
    """The same scrubbing for the standard library's records (uvicorn's access and error
    lines in plain-text mode): a query string or a traceback may quote a key."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = scrub(record.msg)
        if isinstance(record.args, tuple):  # uvicorn's access formatter unpacks the tuple
            record.args = tuple(scrub(arg) for arg in record.args)
        elif isinstance(record.args, Mapping):
            record.args = scrub(record.args)
        if record.exc_info and not record.exc_text:
            # Formatted once here, scrubbed, and cached where every formatter looks first.
            record.exc_text = scrub(logging.Formatter().formatException(record.exc_info))
        return True
