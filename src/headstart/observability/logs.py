"""Structured logs to stderr: JSON lines for machines, readable lines for people.

Every line carries the request id bound by the API's middleware (structlog's context
variables), and passes ``redact_secrets`` so no key, secret or e-mail body is written
(issue 7). With JSON on, a command may have the standard library's loggers (uvicorn's,
alembic's, ours) rendered by the same processors, so a log shipper sees one format.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

import structlog

from headstart.log_redaction import redact_secrets


def configure_logging(*, json: bool, standard_library: bool = False) -> None:
    """structlog's configuration; ``standard_library`` (with ``json``) also takes over the
    root logger's handlers, which only a command that owns its process should do."""
    # Plain tracebacks: the default one prints every local, settings and keys included.
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if json
        else structlog.dev.ConsoleRenderer(
            colors=sys.stderr.isatty(), exception_formatter=structlog.dev.plain_traceback
        )
    )
    processors: list[Any] = [
        # First, so what a request bound (its id, a client-sent value) is redacted too.
        structlog.contextvars.merge_contextvars,
        redact_secrets,  # issue 7: no keys or e-mail bodies in logs
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    if json:
        # A formatted traceback may quote a header or a key: redact it once it is text.
        processors.extend([structlog.processors.format_exc_info, redact_secrets])
    structlog.configure(
        processors=[*processors, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(logging.INFO),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
        cache_logger_on_first_use=True,
    )
    if json and standard_library:
        _render_standard_logging(processors, renderer)


def _render_standard_logging(processors: list[Any], renderer: Any) -> None:
    """Route the standard library's records through the same processors, as JSON."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[structlog.stdlib.add_logger_name],
            processors=[
                *processors,
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                renderer,
            ],
        )
    )
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(logging.INFO)
