"""The token app installs alone: `netbank-token` is a distribution of its own.

Its wheel is built from this source tree (token-app/pyproject.toml) and installed into a
new, empty virtual environment that sees only the wheel and the third-party packages its
metadata names (and theirs), linked from this environment: no network, and no Django,
psycopg or granian to fall back on. `netbank-token --help` must run there, and every
module the wheel ships must import.
"""

from __future__ import annotations

import importlib.metadata
import os
import re
import shutil
import subprocess
import sys
import tomllib
import venv
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[2]
# What the bank's server needs and the client must never pull in.
SERVER_ONLY = {
    "django",
    "psycopg",
    "psycopg-binary",
    "psycopg-pool",
    "granian",
    "waitress",
    "aiosmtpd",
    "whitenoise",
    "dj-database-url",
    "segno",
    "jpholiday",
}
CLIENT_FILES = re.compile(
    r"netbank/(__init__\.py|digits\.py|oath/[^/]+\.py|token_app/([^/]+/)?[^/]+\.py)"
)

pytestmark = pytest.mark.slow


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


@pytest.fixture(scope="module")
def token_wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Build the wheel from a copy of the tree, so the build leaves nothing in the checkout."""
    work = tmp_path_factory.mktemp("token-build")
    shutil.copytree(ROOT / "token-app", work / "token-app")
    shutil.copytree(
        ROOT / "src" / "netbank",
        work / "src" / "netbank",
        ignore=shutil.ignore_patterns("__pycache__", "install.json"),
    )
    out = work / "wheels"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "--no-index",
            "--no-build-isolation",
            "--wheel-dir",
            str(out),
            str(work / "token-app"),
        ],
        check=True,
        capture_output=True,
    )
    (wheel,) = out.glob("netbank_token-*.whl")
    return wheel


def _metadata(wheel: Path) -> list[Requirement]:
    with zipfile.ZipFile(wheel) as archive:
        (name,) = (n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        text = archive.read(name).decode()
    return [
        Requirement(line.split(":", 1)[1].strip())
        for line in text.splitlines()
        if line.startswith("Requires-Dist:")
    ]


def test_the_wheel_holds_only_the_client_and_names_no_server_dependency(token_wheel: Path) -> None:
    with zipfile.ZipFile(token_wheel) as archive:
        names = [n for n in archive.namelist() if ".dist-info/" not in n]
        entry_points = next(
            archive.read(n).decode() for n in archive.namelist() if n.endswith("entry_points.txt")
        )
    assert names, "empty wheel"
    assert [n for n in names if not CLIENT_FILES.fullmatch(n)] == []
    assert {
        "netbank/oath/hotp.py",
        "netbank/token_app/cli/__init__.py",
        "netbank/digits.py",
    } <= set(names)
    # Every module of the client in the source tree is in the wheel (a new sub-package too).
    src = Path(__file__).resolve().parents[2] / "src"
    client = {
        str(f.relative_to(src))
        for part in ("netbank/oath", "netbank/token_app")
        for f in (src / part).rglob("*.py")
    }
    assert client - set(names) == set()
    assert "netbank-token = netbank.token_app.cli:main" in entry_points

    requirements = {_canonical(r.name): r for r in _metadata(token_wheel)}
    assert set(requirements) & SERVER_ONLY == set()
    assert set(requirements) == {"cryptography", "argon2-cffi", "textual", "keyring"}
    # The same pins as the bank's distribution, so the two never disagree on a version.
    bank = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    bank_pins = {
        _canonical(r.name): str(r.specifier)
        for r in map(Requirement, bank["dependencies"] + bank["optional-dependencies"]["demo"])
    }
    assert {name: str(r.specifier) for name, r in requirements.items()} == {
        name: bank_pins[name] for name in requirements
    }


def _dependency_closure(
    requirements: list[Requirement],
) -> Iterator[importlib.metadata.Distribution]:
    """The installed distributions the requirements need, recursively (markers evaluated)."""
    seen: set[str] = set()
    todo = [r for r in requirements if r.marker is None or r.marker.evaluate({"extra": ""})]
    while todo:
        requirement = todo.pop()
        name = _canonical(requirement.name)
        if name in seen:
            continue
        seen.add(name)
        dist = importlib.metadata.distribution(requirement.name)
        assert dist.version in requirement.specifier, (requirement, dist.version)
        yield dist
        for line in dist.requires or []:
            sub = Requirement(line)
            extras = requirement.extras or {""}
            if sub.marker is None or any(sub.marker.evaluate({"extra": e}) for e in extras):
                todo.append(sub)


def test_netbank_token_runs_in_a_clean_venv_without_the_server(
    token_wheel: Path, tmp_path: Path
) -> None:
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=False, symlinks=True)
    python = env_dir / "bin" / "python"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(python),
            "install",
            "--quiet",
            "--no-deps",
            "--no-index",
            str(token_wheel),
        ],
        check=True,
        capture_output=True,
    )

    # The third-party packages the wheel declares, and only those, linked into a folder the
    # new environment reads through a .pth file (the network is not needed).
    deps = tmp_path / "deps"
    deps.mkdir()
    linked: set[str] = set()
    for dist in _dependency_closure(_metadata(token_wheel)):
        assert _canonical(dist.metadata["Name"]) not in SERVER_ONLY
        for file in dist.files or []:
            top = file.parts[0]
            if top in {"..", "__pycache__"} or top.endswith(".pth") or top in linked:
                continue
            source = Path(str(dist.locate_file(top)))
            if source.exists():
                (deps / top).symlink_to(source)
                linked.add(top)
    (site_packages,) = env_dir.glob("lib/python3*/site-packages")
    (site_packages / "netbank-token-deps.pth").write_text(f"{deps}\n")

    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"PYTHONPATH", "DJANGO_SETTINGS_MODULE", "PYTHONHOME", "VIRTUAL_ENV"}
    }
    env |= {"NETBANK_TOKEN_HOME": str(tmp_path / "home"), "NETBANK_TOKEN_NO_KEYRING": "1"}

    helped = subprocess.run(
        [str(env_dir / "bin" / "netbank-token"), "--help"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        check=False,
        timeout=120,
    )
    assert helped.returncode == 0, helped.stderr
    assert "netbank-token" in helped.stdout

    # Every module of the wheel imports there, from the installed copy, and the server's
    # packages are simply absent.
    with zipfile.ZipFile(token_wheel) as archive:
        modules = [
            n.removesuffix(".py").removesuffix("/__init__").replace("/", ".")
            for n in archive.namelist()
            # __main__ runs the program when imported (python -m netbank.token_app.cli)
            if n.endswith(".py") and not n.endswith("/__main__.py")
        ]
    code = (
        "import importlib, importlib.util, sys\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        "import netbank\n"
        "print(netbank.__file__)\n"
        f"print([m for m in {sorted(SERVER_ONLY)!r} if importlib.util.find_spec(m.replace('-', '_')) is not None])\n"
    )
    imported = subprocess.run(
        [str(python), "-c", code],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        check=False,
        timeout=120,
    )
    assert imported.returncode == 0, imported.stderr
    where, absent = imported.stdout.splitlines()
    assert Path(where).is_relative_to(site_packages)
    assert absent == "[]"
