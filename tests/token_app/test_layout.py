"""The token app's modules form no import circle: the command line starts the screens,
and the screens never reach back into the command line (shared pieces live in
``install_source`` and ``launch``)."""

from __future__ import annotations

import ast
from pathlib import Path

import netbank.token_app as token_app

PACKAGE = Path(token_app.__file__).resolve().parent


def _sources(name: str) -> list[Path]:
    """The files of module ``name`` of the token app (a module or a package)."""
    folder = PACKAGE / name
    if folder.is_dir():
        return sorted(folder.rglob("*.py"))
    return [PACKAGE / f"{name}.py"]


def _imported(path: Path) -> set[str]:
    """Every module ``path`` imports, at the top or inside a function."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def _reaches(imported: set[str], module: str) -> bool:
    return any(name == module or name.startswith(module + ".") for name in imported)


def test_the_screens_never_import_the_command_line() -> None:
    for path in _sources("tui"):
        assert not _reaches(_imported(path), "netbank.token_app.cli"), path


def test_the_shared_modules_import_neither_the_screens_nor_the_command_line() -> None:
    for name in ("install_source", "launch"):
        for path in _sources(name):
            imported = _imported(path)
            assert not _reaches(imported, "netbank.token_app.cli"), path
            assert not _reaches(imported, "netbank.token_app.tui"), path
