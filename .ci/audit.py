"""Known vulnerabilities in the pinned dependencies (issue 7), for `make audit` and CI.

pip-audit checks every pin of constraints.txt against PyPI's advisory service.
Vulnerabilities found fail the run; a service that cannot be reached does not
(CI must not go red because PyPI is down), but it is said loudly.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BANNER = "!" * 78


def main() -> int:
    with tempfile.TemporaryDirectory() as scratch:
        report = Path(scratch) / "audit.json"
        command = [
            sys.executable, "-m", "pip_audit",
            "--requirement", str(ROOT / "constraints.txt"),
            "--no-deps", "--disable-pip",  # every line is an exact pin: nothing to resolve
            "--progress-spinner", "off",
            "--format", "json", "--output", str(report),
        ]  # fmt: skip
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode == 0:
            print("pip-audit: no known vulnerabilities in constraints.txt")
            return 0
        if report.is_file() and report.stat().st_size:
            vulnerable = [
                dep for dep in json.loads(report.read_text())["dependencies"] if dep.get("vulns")
            ]
            if vulnerable:
                for dep in vulnerable:
                    for vuln in dep["vulns"]:
                        fixes = ", ".join(vuln.get("fix_versions") or ()) or "no fix yet"
                        print(f"{dep['name']}=={dep['version']}: {vuln['id']} (fixed in {fixes})")
                print(f"pip-audit: {len(vulnerable)} vulnerable package(s); update constraints.txt")
                return 1
        print(BANNER, file=sys.stderr)
        print("WARNING: the dependency audit could not run (PyPI unreachable?):", file=sys.stderr)
        print((done.stderr or done.stdout).strip()[-2000:], file=sys.stderr)
        print(BANNER, file=sys.stderr)
        return 0


if __name__ == "__main__":
    sys.exit(main())
