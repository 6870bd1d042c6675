"""The real ``headstart serve`` in a subprocess, started and stopped like an operator would."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import httpx

from tests.support import OPERATOR_KEY

STARTUP_SECONDS = 20.0  # migrations included; a healthy server answers in ~1 s
STOP_SECONDS = 10.0  # SIGTERM grace before SIGKILL
CLIENT_TIMEOUT = httpx.Timeout(60.0)  # a request may queue behind many writers

# uvicorn's access log: `... "POST /v1/orders HTTP/1.1" 500 Internal Server Error`
_SERVER_ERROR_LINE = re.compile(r'" 5\d\d\b')


def free_port() -> int:
    """A port nothing listens on now (the OS picks it when we bind port 0)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ServerProcess:
    """One ``headstart serve`` process on a database; may be stopped and started again."""

    def __init__(
        self,
        database_url: str,
        log_path: Path,
        *,
        args: Sequence[str] = (),
        env: Mapping[str, str] | None = None,
        startup_seconds: float = STARTUP_SECONDS,
    ) -> None:
        self.database_url = database_url
        self.log_path = log_path
        self.args = list(args)  # more ``headstart serve`` options, e.g. --workers 2
        self.env = dict(env or {})
        self.startup_seconds = startup_seconds
        self.process: subprocess.Popen[bytes] | None = None
        self.base_url = ""

    def start(self) -> str:
        assert self.process is None, "already running"
        port = free_port()
        command = [sys.executable, "-m", "headstart.cli", "serve"]
        env = {
            **os.environ,
            "HEADSTART_DATABASE_URL": self.database_url,
            "HEADSTART_OPERATOR_KEY": OPERATOR_KEY,
            "HEADSTART_SANDBOX": "1",
            **self.env,
        }
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [*command, "--host", "127.0.0.1", "--port", str(port), *self.args],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,  # our signals reach it, a Ctrl-C of pytest does not
            )
        self.base_url = f"http://127.0.0.1:{port}"
        self._wait_healthy()
        return self.base_url

    def _wait_healthy(self) -> None:
        assert self.process is not None
        deadline = time.monotonic() + self.startup_seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                log = self.log()
                self.process = None
                raise RuntimeError(f"headstart serve exited during startup:\n{log}")
            try:
                response = httpx.get(f"{self.base_url}/healthz", timeout=1.0)
                if response.status_code == 200 and response.json().get("sandbox") is True:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(
            f"headstart serve not healthy after {self.startup_seconds:.0f} s:\n{self.log()}"
        )

    def stop(self, sig: signal.Signals = signal.SIGTERM) -> int | None:
        """Stop the process (SIGTERM, SIGKILL after a grace period); returns its exit code."""
        process, self.process = self.process, None
        if process is None:
            return None
        if process.poll() is None:
            process.send_signal(sig)
            try:
                process.wait(timeout=STOP_SECONDS)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=STOP_SECONDS)
        return process.returncode

    def kill(self) -> int | None:
        """A crash: SIGKILL, no chance to finish anything."""
        return self.stop(signal.SIGKILL)

    def restart(self) -> str:
        self.stop()
        return self.start()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def server_errors(self) -> list[str]:
        """Access-log lines with a 5xx status and tracebacks, over every run of this server.

        DESIGN.md section 5: a 5xx is always a bug.
        """
        return [
            line
            for line in self.log().splitlines()
            if _SERVER_ERROR_LINE.search(line) or line.startswith("Traceback")
        ]

    def assert_no_server_errors(self) -> None:
        errors = self.server_errors()
        assert not errors, "server errors (a 5xx is always a bug):\n" + "\n".join(errors[:20])

    def client(self) -> httpx.Client:
        """A client of its own (httpx.Client is not meant to be shared across threads)."""
        return httpx.Client(base_url=self.base_url, timeout=CLIENT_TIMEOUT)
