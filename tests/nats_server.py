"""NATS JetStream for the tests: where it is, whether it is up, throwaway names.

HEADSTART_TEST_NATS_URL names the server (default: the local one on port 4222). When
nothing answers there and ``nats-server`` is on PATH, one is started for the session
(JetStream on, storage in a temporary directory) and stopped at the end.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from typing import Any
from urllib.parse import urlsplit

import nats
from nats.js import JetStreamContext
from nats.js.errors import NotFoundError

from headstart.workers.tracking_streams import Topology

DEFAULT_URL = "nats://127.0.0.1:4222"
CONNECT_TIMEOUT_SECONDS = 2.0
STARTUP_SECONDS = 10.0


def nats_test_url() -> str:
    return os.environ.get("HEADSTART_TEST_NATS_URL") or DEFAULT_URL


def has_jetstream(url: str) -> bool:
    """True when a NATS server answers at ``url`` with JetStream enabled (its INFO says so)."""
    parts = urlsplit(url)
    try:
        with socket.create_connection(
            (parts.hostname or "127.0.0.1", parts.port or 4222), timeout=CONNECT_TIMEOUT_SECONDS
        ) as sock:
            line = sock.makefile("rb").readline(65536)
    except OSError:
        return False
    if not line.startswith(b"INFO "):
        return False
    return bool(json.loads(line[5:]).get("jetstream"))


class LocalNatsServer:
    """A ``nats-server -js`` of the test session's own, when none was running."""

    def __init__(self) -> None:
        self.process: subprocess.Popen[bytes] | None = None
        self.store = tempfile.mkdtemp(prefix="headstart-nats-")
        self.url = ""

    def start(self) -> bool:
        binary = shutil.which("nats-server")
        if binary is None:
            return False
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        self.url = f"nats://127.0.0.1:{port}"
        self.process = subprocess.Popen(
            [binary, "-a", "127.0.0.1", "-p", str(port), "-js", "-sd", self.store],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            if has_jetstream(self.url):
                return True
            time.sleep(0.1)
        self.stop()
        return False

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is not None:
            process.terminate()
            process.wait(timeout=10)
        shutil.rmtree(self.store, ignore_errors=True)


def unique_topology() -> Topology:
    """Streams, subjects and a durable no other test (or test run) uses."""
    tag = uuid.uuid4().hex[:12]
    return Topology(
        stream=f"HSTEST_{tag}",
        dead_letter_stream=f"HSTEST_{tag}_DLQ",
        prefix=f"hstest{tag}",
        durable=f"hstest-{tag}",
    )


async def delete_streams(topology: Topology) -> None:
    """Remove a test's streams (and with them its durable consumer)."""
    connection = await nats.connect(nats_test_url())
    try:
        js = connection.jetstream()
        for name in (topology.stream, topology.dead_letter_stream):
            with contextlib.suppress(NotFoundError):
                await js.delete_stream(name)
    finally:
        await connection.close()


async def dead_letters(js: JetStreamContext, topology: Topology) -> list[dict[str, Any]]:
    """Every dead letter of the test's stream: its JSON envelope, plus its headers."""
    try:
        info = await js.stream_info(topology.dead_letter_stream)
    except NotFoundError:
        return []
    letters = []
    for sequence in range(info.state.first_seq, info.state.last_seq + 1):
        if info.state.messages == 0:
            break
        stored = await js.get_msg(topology.dead_letter_stream, sequence)
        assert stored.subject == topology.dead_letter_subject
        assert stored.data is not None
        letters.append({**json.loads(stored.data), "headers": dict(stored.headers or {})})
    return letters


async def consumer_backlog(js: JetStreamContext, topology: Topology) -> tuple[int, int]:
    """Messages the durable has not delivered yet, and delivered but not acknowledged."""
    info = await js.consumer_info(topology.stream, topology.durable)
    return info.num_pending, info.num_ack_pending
