"""A real ``headstart serve`` for the benchmarks that drive it over HTTP.

Shared by ``bench_offers.py``, ``bench_orders_pg.py`` and ``bench_scale.py`` (run as
scripts, so this folder is on ``sys.path``): each starts the server the way an operator
does and waits for ``/healthz`` before it measures anything.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url

# Each of N uvicorn processes imports the app before it answers (seconds on a busy box).
STARTUP_SECONDS = 120.0
KEY_SECRET = "bench-key-secret"  # fixed, so keys a bench made in-process work on the server


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class Served:
    """A started server: its base URL, the supervisor's process id, and how long it took
    from the process's start until ``/healthz`` answered."""

    base: str
    pid: int
    startup_seconds: float


@contextmanager
def running_server(
    database_url: str, workers: int, log_path: Path, operator_key: str
) -> Iterator[Served]:
    """``headstart serve`` as an operator starts it, until it is stopped."""
    port = free_port()
    env = {
        **os.environ,
        "HEADSTART_DATABASE_URL": database_url,
        "HEADSTART_OPERATOR_KEY": operator_key,
        "HEADSTART_KEY_SECRET": KEY_SECRET,
        "HEADSTART_SANDBOX": "0",
        "HEADSTART_RUN_WORKER_IN_PROCESS": "0",
    }
    command = [sys.executable, "-m", "headstart.cli", "serve", "--port", str(port)]
    base = f"http://127.0.0.1:{port}"
    with log_path.open("ab") as log:
        started = time.perf_counter()
        process = subprocess.Popen(
            [*command, "--workers", str(workers)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    try:
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"headstart serve exited:\n{log_path.read_text()}")
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.perf_counter() - started > STARTUP_SECONDS:
                raise RuntimeError(f"headstart serve did not start:\n{log_path.read_text()}")
            time.sleep(0.05)
        yield Served(base, process.pid, time.perf_counter() - started)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


@contextmanager
def scratch_postgres(prefix: str, admin_url: str = ADMIN_URL) -> Iterator[str]:
    """A new PostgreSQL database (named ``prefix`` and a random suffix) for one run,
    dropped after it, connections and all; yields its URL."""
    admin = make_url(admin_url)
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    connect: dict[str, Any] = {"host": admin.host, "port": admin.port, "user": admin.username}
    if admin.password:
        connect["password"] = admin.password
    with psycopg.connect(**connect, dbname=admin.database, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield admin.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(**connect, dbname=admin.database, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
