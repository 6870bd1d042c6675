"""``headstart serve``: the HTTP API, in one process or several on one port (issue 8).

API processes keep no state of their own that another could contradict: every offer
is computed from the database per request, and the one thing they cache, the
in-stock model (``EstimatorCache``), checks the newest stored model and outcome in
each transaction. So N processes behind one socket (uvicorn's workers) need no
invalidation between them. Only the failed-authentication allowance is per process.

With ``--workers N`` the parent migrates the schema and settles the key secret once,
then uvicorn spawns N children that each build their app from the environment
(``app_from_environment``) without migrating; prometheus-client runs in multiprocess
mode over a directory they share, so ``GET /metrics`` from any child counts them all.
"""

from __future__ import annotations

import copy
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

import typer
import uvicorn
from fastapi import FastAPI
from rich.console import Console
from uvicorn.config import LOGGING_CONFIG

from headstart.api.app import create_app
from headstart.bootstrap import build_runtime
from headstart.config import Settings
from headstart.log_redaction import RedactingFilter
from headstart.observability.logs import configure_logging
from headstart.observability.metrics import MULTIPROCESS_DIR_VARIABLE

console = Console(stderr=True)
FACTORY = "headstart.commands.serve:app_from_environment"
# A spawned child re-imports the command's module before it can answer uvicorn's health
# pings; on a busy machine that alone outlasts uvicorn's default of 5 s and the child
# is killed as hung, again and again.
WORKER_HEALTHCHECK_SECONDS = 60


def serve(
    host: Annotated[str, typer.Option(help="interface to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port")] = 8000,
    workers: Annotated[
        int, typer.Option(min=1, help="API processes sharing the port (use PostgreSQL for >1)")
    ] = 1,
    json_logs: Annotated[
        bool, typer.Option(help="JSON lines with request ids (HEADSTART_LOG_JSON)")
    ] = False,
) -> None:
    """Run the HTTP API.

    Reads HEADSTART_DATABASE_URL, HEADSTART_OPERATOR_KEY and HEADSTART_SANDBOX (see README
    for the rest). With --workers N, PROMETHEUS_MULTIPROC_DIR names the metrics directory
    the processes share (default: a temporary one, removed at exit).
    """
    if json_logs:
        os.environ["HEADSTART_LOG_JSON"] = "1"  # the children read their settings from here
    settings = Settings()
    configure_logging(json=settings.log_json, standard_library=True)
    runtime = build_runtime(settings)  # migrates, and settles the key secret, once
    if not settings.operator_key:
        console.print("[yellow]HEADSTART_OPERATOR_KEY is not set: no operator can sign in.[/]")
    options = uvicorn_options(settings)
    if workers == 1:
        uvicorn.run(create_app(runtime), host=host, port=port, **options)
        return
    if settings.database_url.startswith("sqlite"):
        console.print(
            "[yellow]Several processes on SQLite take turns at one write lock; "
            "use PostgreSQL to scale out.[/]"
        )
    runtime.engine.dispose()  # the children open their own pools
    with metrics_directory():
        uvicorn.run(
            FACTORY,
            factory=True,
            workers=workers,
            host=host,
            port=port,
            timeout_worker_healthcheck=WORKER_HEALTHCHECK_SECONDS,
            **options,
        )


def app_from_environment() -> FastAPI:
    """One worker process's app (uvicorn calls it in each child): settings from the
    environment, the schema already migrated by the parent."""
    settings = Settings()
    configure_logging(json=settings.log_json, standard_library=True)
    return create_app(build_runtime(settings, migrate=False))


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """JSON logs: our middleware logs each request with its id, so uvicorn's access log
    goes, and uvicorn's other lines go through the JSON formatter (no config of its own).
    Plain logs: uvicorn's own format, its lines scrubbed of keys like ours (issue 7)."""
    if settings.log_json:
        return {"log_level": "info", "log_config": None, "access_log": False}
    return {"log_level": "info", "log_config": redacted_uvicorn_logging()}


def redacted_uvicorn_logging() -> dict[str, Any]:
    """uvicorn's default logging configuration with ``RedactingFilter`` on every handler."""
    config = copy.deepcopy(LOGGING_CONFIG)
    config["filters"] = {"redact": {"()": RedactingFilter}}
    for handler in config["handlers"].values():
        handler["filters"] = ["redact"]
    return config


@contextmanager
def metrics_directory() -> Iterator[str]:
    """The directory the processes' metrics share: the operator's (kept, theirs to wipe
    between runs) or a temporary one (removed at exit)."""
    given = os.environ.get(MULTIPROCESS_DIR_VARIABLE)
    if given:
        os.makedirs(given, exist_ok=True)
        yield given
        return
    made = tempfile.mkdtemp(prefix="headstart-metrics-")
    os.environ[MULTIPROCESS_DIR_VARIABLE] = made
    try:
        yield made
    finally:
        del os.environ[MULTIPROCESS_DIR_VARIABLE]
        shutil.rmtree(made, ignore_errors=True)
