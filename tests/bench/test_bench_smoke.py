"""The verification benchmark still works: setup, server, a tiny burst, the audit check.

Not a performance test: it runs bench/otp_verify.py on SQLite with its Python client
(no wrk needed), two server processes (waitress, and granian), and a handful of requests, and checks that every
request was a correct fresh code that the server accepted and audited.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


# granian is the server docs/operations.md names for API nodes: the API must work under
# it exactly as under waitress.
@pytest.mark.parametrize("server", ["waitress", "granian"])
def test_benchmark_runs_a_tiny_burst_on_sqlite_and_every_code_is_accepted(
    tmp_path: Path, server: str
) -> None:
    out = tmp_path / "results.json"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.otp_verify",
            "--db",
            "sqlite",
            "--client",
            "python",
            "--concurrency",
            "1,3",
            "--requests",
            "12",
            "--customers",
            "40",
            "--workers",
            "2",
            "--threads",
            "2",
            "--no-calibrate",
            "--server",
            server,
            "--json",
            str(out),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    written = json.loads(out.read_text())
    # The file is committed with the docs: it names the commit measured, no local path.
    assert str(ROOT) not in out.read_text()
    assert re.fullmatch(r"[0-9a-f]{40}( \(working tree, src/ changed\))?", written["commit"])
    results = written["results"]
    assert [(r["db"], r["concurrency"]) for r in results] == [("sqlite", 1), ("sqlite", 3)]
    for r in results:
        assert r["requests"] == r["accepted"] == 12
        assert r["rejected"] == r["locked"] == r["other"] == 0
        assert r["p50_ms"] > 0
    assert "audit trail: 24 otp.accepted records for 24 accepted answers" in proc.stdout


def test_another_tree_is_named_without_its_location(tmp_path: Path) -> None:
    from bench.otp_verify import source_label

    other = tmp_path / "checkout" / "src"
    assert source_label(other, "") == "another tree: checkout/src"
    assert source_label(other, "c" * 40) == "c" * 40
