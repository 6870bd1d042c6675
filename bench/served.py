"""A real ``headstart serve`` for the benchmarks that drive it over HTTP.

Shared by ``bench_offers.py`` and ``bench_orders_pg.py`` (run as scripts, so this
folder is on ``sys.path``): both start the server the way an operator does and wait
for ``/healthz`` before they measure anything.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

# Each of N uvicorn processes imports the app before it answers (seconds on a busy box).
STARTUP_SECONDS = 120.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def running_server(
    database_url: str, workers: int, log_path: Path, operator_key: str
) -> Iterator[str]:
    """``headstart serve`` as an operator starts it; its base URL until it is stopped."""
    port = free_port()
    env = {
        **os.environ,
        "HEADSTART_DATABASE_URL": database_url,
        "HEADSTART_OPERATOR_KEY": operator_key,
        "HEADSTART_KEY_SECRET": "bench-key-secret",
        "HEADSTART_SANDBOX": "0",
        "HEADSTART_RUN_WORKER_IN_PROCESS": "0",
    }
    command = [sys.executable, "-m", "headstart.cli", "serve", "--port", str(port)]
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            [*command, "--workers", str(workers)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"headstart serve exited:\n{log_path.read_text()}")
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"headstart serve did not start:\n{log_path.read_text()}")
            time.sleep(0.2)
        yield base
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
