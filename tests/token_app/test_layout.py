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


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _top_level_imports(path: Path) -> set[str]:
    """The modules ``path`` imports when it is loaded (not those inside functions or
    under TYPE_CHECKING)."""
    names: set[str] = set()
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def test_no_module_of_the_token_app_imports_itself_back_when_loaded() -> None:
    files = {_module_name(path): path for path in PACKAGE.rglob("*.py")}
    graph = {
        name: {other for other in _top_level_imports(path) if other in files and other != name}
        for name, path in files.items()
    }
    # A package's __init__ importing its own modules is how packages work, not a circle.
    for name in graph:
        graph[name] = {other for other in graph[name] if not other.startswith(name + ".")}
    state: dict[str, str] = {}

    def visit(name: str, trail: list[str]) -> None:
        if state.get(name) == "done":
            return
        assert state.get(name) != "open", " -> ".join([*trail, name])
        state[name] = "open"
        for other in sorted(graph[name]):
            visit(other, [*trail, name])
        state[name] = "done"

    for name in sorted(graph):
        visit(name, [])
