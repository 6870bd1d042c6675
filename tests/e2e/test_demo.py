"""``make demo`` serves, and the curl commands it prints work as printed."""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.e2e.server import free_port

pytestmark = pytest.mark.e2e

STARTUP_SECONDS = 60.0


def _wait_for_curls(process: subprocess.Popen[str], log: Path) -> list[str]:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        text = log.read_text()
        curls = [line.strip() for line in text.splitlines() if line.strip().startswith("curl ")]
        if len(curls) == 3 and "The sandbox clock starts at" in text:
            return curls
        if process.poll() is not None:
            pytest.fail(f"headstart demo exited early:\n{text}")
        time.sleep(0.2)
    pytest.fail(
        f"headstart demo printed no curl commands in {STARTUP_SECONDS}s:\n{log.read_text()}"
    )


def test_demo_prints_keys_and_three_curl_commands_that_work(tmp_path: Path) -> None:
    port = free_port()
    log = tmp_path / "demo.log"
    env = {**os.environ, "COLUMNS": "400", "TERM": "dumb"}
    env.pop("HEADSTART_OPERATOR_KEY", None)
    with log.open("w") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "headstart.cli",
                "demo",
                "--port",
                str(port),
                "--database",
                str(tmp_path / "demo.db"),
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
            cwd=tmp_path,
            env=env,
            start_new_session=True,
        )
    try:
        curls = _wait_for_curls(process, log)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        text = log.read_text()
        assert "operator key:" in text and "storefront key:" in text and "seller sel_" in text
        results = []
        for command in curls:
            done = subprocess.run(
                [*shlex.split(command), "-w", "\n%{http_code}"],
                capture_output=True,
                text=True,
                timeout=30,
                check=True,
            )
            body, status = done.stdout.rsplit("\n", 1)
            assert status.startswith("2"), (command, status, body)
            results.append(json.loads(body))
        offer, order, report = results
        assert offer["buyable"] is True and offer["source"] == "head_start"
        assert offer["promised_delivery_date"] is not None
        assert order["status"] == "promised" and order["promise"] == {
            key: offer[key] for key in order["promise"]
        }
        assert any(row["head_start_reserved"] > 0 for row in report["rows"])
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
