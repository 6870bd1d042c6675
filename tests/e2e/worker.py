"""A real ``headstart worker`` subprocess for the end-to-end tests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from headstart.workers.tracking_streams import Topology
from tests.nats_server import nats_test_url

READY = "tracking_consumer_started"  # what the worker logs once it consumes


def worker_env(database_url: str, topology: Topology, **settings: str) -> dict[str, str]:
    """A sandbox worker's environment on ``database_url``, consuming the test's own
    streams (``topology``), its scheduler idle; ``settings`` adds HEADSTART_ variables."""
    return {
        **os.environ,
        "HEADSTART_DATABASE_URL": database_url,
        "HEADSTART_SANDBOX": "1",
        "HEADSTART_NATS_URL": nats_test_url(),
        "HEADSTART_NATS_STREAM": topology.stream,
        "HEADSTART_NATS_DEAD_LETTER_STREAM": topology.dead_letter_stream,
        "HEADSTART_NATS_SUBJECT_PREFIX": topology.prefix,
        "HEADSTART_NATS_DURABLE": topology.durable,
        "HEADSTART_SCHEDULER_INTERVAL_SECONDS": "3600",
        **{f"HEADSTART_{name.upper()}": value for name, value in settings.items()},
    }


class WorkerProcess:
    """One ``headstart worker`` subprocess; its log accumulates over restarts."""

    def __init__(
        self,
        env: dict[str, str],
        log_path: Path,
        *,
        args: Sequence[str] = (),
        startup_seconds: float = 30.0,
    ) -> None:
        self.env = env
        self.log_path = log_path
        self.args = tuple(args)
        self.startup_seconds = startup_seconds
        self.process: subprocess.Popen[bytes] | None = None
        self._ready_before = 0

    def start(self) -> None:
        """Launch it; ``wait_consuming`` waits until it consumes."""
        self._ready_before = self.log().count(READY)
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "headstart.cli", "worker", *self.args],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )

    def wait_consuming(self) -> None:
        """Until its log says it consumes once more than before this start."""
        deadline = time.monotonic() + self.startup_seconds
        while self.log().count(READY) == self._ready_before:
            assert self.process is not None and self.process.poll() is None, self.log()
            assert time.monotonic() < deadline, f"the worker did not start:\n{self.log()}"
            time.sleep(0.1)

    def stop(self, sig: signal.Signals = signal.SIGTERM, timeout: float = 30.0) -> int:
        process, self.process = self.process, None
        assert process is not None
        process.send_signal(sig)
        try:
            return process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            raise

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
