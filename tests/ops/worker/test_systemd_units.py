"""deploy/systemd: the units pass ``systemd-analyze verify`` and carry the hardening."""

from __future__ import annotations

import importlib
import re
import subprocess
import sys
from pathlib import Path

import pytest

UNITS = Path(__file__).resolve().parents[3] / "deploy" / "systemd"
NAMES = [
    "netbank-web.service",
    "netbank-api.service",
    "netbank-worker.service",
    "netbank-metrics.service",
]
INSTALLED_BIN = "/opt/netbank/venv/bin/"
SYSTEMD_ANALYZE = "/usr/bin/systemd-analyze"

HARDENING = {
    "NoNewPrivileges": "yes",
    "ProtectSystem": "strict",
    "ProtectHome": "yes",
    "PrivateTmp": "yes",
    "User": "netbank",
    "EnvironmentFile": "/etc/netbank/netbank.env",
    "ReadWritePaths": "/var/lib/netbank",
    "KillSignal": "SIGTERM",
    "Restart": "on-failure",
}


def _settings(name: str) -> dict[str, list[str]]:
    """The unit's [Service] keys (a key may repeat), continuation lines joined."""
    text = (UNITS / name).read_text("utf-8").replace("\\\n", " ")
    service = text.split("[Service]", 1)[1].split("\n[", 1)[0]
    found: dict[str, list[str]] = {}
    for line in service.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            found.setdefault(key, []).append(" ".join(value.split()))
    return found


def _seconds(value: str) -> int:
    number, unit = re.fullmatch(r"(\d+)\s*(s|min)?", value).groups()  # type: ignore[union-attr]
    return int(number) * (60 if unit == "min" else 1)


@pytest.mark.skipif(not Path(SYSTEMD_ANALYZE).exists(), reason="needs systemd-analyze")
def test_systemd_analyze_verify_finds_nothing_to_say(tmp_path: Path) -> None:
    """Verified as installed, with the programs pointing at this machine's real ones."""
    programs = Path(sys.executable).parent
    assert (programs / "granian").exists()
    assert (programs / "netbank").exists()
    for name in NAMES:
        text = (UNITS / name).read_text("utf-8")
        assert INSTALLED_BIN in text
        (tmp_path / name).write_text(text.replace(INSTALLED_BIN, f"{programs}/"), "utf-8")

    result = subprocess.run(
        [SYSTEMD_ANALYZE, "verify", "--man=no", *(str(tmp_path / name) for name in NAMES)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


@pytest.mark.skipif(not Path(SYSTEMD_ANALYZE).exists(), reason="needs systemd-analyze")
def test_verify_would_catch_a_mistake(tmp_path: Path) -> None:
    text = (UNITS / "netbank-worker.service").read_text("utf-8")
    bad = text.replace(INSTALLED_BIN, f"{Path(sys.executable).parent}/").replace(
        "NoNewPrivileges=", "NoNewPrivilege="
    )
    (tmp_path / "netbank-worker.service").write_text(bad, "utf-8")

    result = subprocess.run(
        [SYSTEMD_ANALYZE, "verify", "--man=no", str(tmp_path / "netbank-worker.service")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert "Unknown key 'NoNewPrivilege'" in result.stderr


@pytest.mark.parametrize("name", NAMES)
def test_every_unit_is_hardened_and_stops_gracefully(name: str) -> None:
    found = _settings(name)
    for key, value in HARDENING.items():
        assert found.get(key) == [value], (name, key)
    assert found["CapabilityBoundingSet"] == [""]
    assert _seconds(found["TimeoutStopSec"][0]) >= 30


def test_the_worker_has_time_to_finish_a_job_before_it_is_killed() -> None:
    found = _settings("netbank-worker.service")
    assert found["ExecStart"] == [f"{INSTALLED_BIN}netbank worker"]
    # The SMTP timeout and a daily verify-audit of a large trail fit well inside.
    assert _seconds(found["TimeoutStopSec"][0]) >= 10 * 60


@pytest.mark.parametrize(
    ("name", "module"),
    [
        ("netbank-web.service", "netbank.config.wsgi"),
        ("netbank-api.service", "netbank.config.wsgi_api"),
    ],
)
def test_the_servers_serve_the_bank_and_write_metrics_to_a_fresh_folder(
    name: str, module: str
) -> None:
    found = _settings(name)
    command = found["ExecStart"][0]
    assert command.startswith(f"{INSTALLED_BIN}granian --interface wsgi ")
    assert command.endswith(f" {module}:application")
    assert hasattr(importlib.import_module(module), "application")
    folder = f"/run/{name.removesuffix('.service')}"
    assert found["RuntimeDirectory"] == [folder.removeprefix("/run/")]
    assert f"PROMETHEUS_MULTIPROC_DIR={folder}" in found["Environment"]
    assert found["ExecStartPre"] == [f"/usr/bin/find {folder} -mindepth 1 -delete"]


def test_the_metrics_server_listens_privately_and_reads_every_services_folder() -> None:
    found = _settings("netbank-metrics.service")
    command = found["ExecStart"][0]
    assert command.startswith(
        f"{INSTALLED_BIN}netbank metrics-server --bind ${{NETBANK_METRICS_BIND}} "
    )
    # Loopback unless the environment file names the node's private address.
    assert "NETBANK_METRICS_BIND=127.0.0.1:9108" in found["Environment"]
    for service in ("web", "api", "worker"):
        assert f"--dir /run/netbank-{service}" in command
