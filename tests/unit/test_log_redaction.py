"""No keys in uvicorn's own lines either (issue 7, item 4): the standard-library filter."""

from __future__ import annotations

import io
import logging
import sys

from uvicorn.logging import AccessFormatter

from headstart.log_redaction import REDACTED, RedactingFilter

KEY = "hs_sel_0123456789abcdef"


def _handler(formatter: logging.Formatter) -> tuple[logging.Handler, io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    handler.addFilter(RedactingFilter())
    return handler, stream


def test_an_access_line_keeps_its_shape_and_loses_the_key_in_its_query_string() -> None:
    handler, stream = _handler(
        AccessFormatter('%(client_addr)s "%(request_line)s" %(status_code)s')
    )
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "GET", f"/v1/offers/A?key={KEY}", "1.1", 404),
        None,
    )

    handler.handle(record)

    line = stream.getvalue()
    assert KEY not in line
    assert f'"GET /v1/offers/A?key={REDACTED} HTTP/1.1" 404' in line


def test_a_traceback_quoting_a_bearer_token_is_scrubbed() -> None:
    handler, stream = _handler(logging.Formatter("%(message)s"))
    try:
        raise RuntimeError(f"upstream echoed Authorization: Bearer {KEY}")
    except RuntimeError:
        record = logging.LogRecord(
            "uvicorn.error",
            logging.ERROR,
            __file__,
            1,
            "Exception in ASGI application",
            (),
            sys.exc_info(),
        )

    handler.handle(record)

    text = stream.getvalue()
    assert "Exception in ASGI application" in text
    assert "RuntimeError: upstream echoed Authorization:" in text
    assert KEY not in text


def test_a_message_with_mapping_arguments_is_scrubbed() -> None:
    handler, stream = _handler(logging.Formatter("%(message)s"))
    record = logging.LogRecord(
        "uvicorn.error", logging.WARNING, __file__, 1, "bad key %(key)s", ({"key": KEY},), None
    )

    handler.handle(record)

    assert stream.getvalue().strip() == f"bad key {REDACTED}"
