"""The shape of the code, read from the source with ``ast``: no import circles between the
project's modules, no module reaching into another's private names, the backend independent of
the screens, and every request body documented in the OpenAPI description."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("backend", "dashboard", "callbacks", "layouts", "bench")
SCREENS = ("dashboard", "callbacks", "layouts")


@dataclass(frozen=True, slots=True)
class Import:
    importer: str  # the module that imports
    line: int
    module: str  # the module named (``from module import names``, ``import module``)
    names: tuple[str, ...]  # the names taken from it (empty for ``import module``)


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


@cache
def _sources() -> dict[str, tuple[Path, ast.Module]]:
    out: dict[str, tuple[Path, ast.Module]] = {}
    for pkg in PACKAGES:
        for path in sorted((ROOT / pkg).rglob("*.py")):
            if "migrations" in path.parts and "versions" in path.parts:
                continue  # Alembic's revision files: loaded by Alembic, never imported
            out[_module_name(path)] = (path, ast.parse(path.read_text(), str(path)))
    return out


def _absolute(importer: str, is_package: bool, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = importer.split(".")
    if not is_package:
        base = base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def _imports() -> Iterator[Import]:
    """Every import statement of every module: at module level, under ``if TYPE_CHECKING``,
    inside functions, everywhere."""
    for name, (path, tree) in _sources().items():
        is_package = path.name == "__init__.py"
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    yield Import(name, node.lineno, alias.name, ())
            elif isinstance(node, ast.ImportFrom):
                module = _absolute(name, is_package, node)
                yield Import(name, node.lineno, module, tuple(a.name for a in node.names))


def _project_module(dotted: str) -> str | None:
    """The project module a dotted name lives in (its longest prefix that is one)."""
    parts = dotted.split(".")
    while parts:
        candidate = ".".join(parts)
        if candidate in _sources():
            return candidate
        parts.pop()
    return None


def _graph() -> dict[str, dict[str, int]]:
    """importer → {imported project module: line of the first such import}."""
    graph: dict[str, dict[str, int]] = {m: {} for m in _sources()}
    for imp in _imports():
        targets: list[str | None] = []
        if imp.names:  # ``from pkg import mod`` imports the module pkg.mod
            for n in imp.names:
                sub = f"{imp.module}.{n}"
                targets.append(sub if sub in _sources() else _project_module(imp.module))
        else:
            targets.append(_project_module(imp.module))
        for target in targets:
            if target is not None and target != imp.importer:
                graph[imp.importer].setdefault(target, imp.line)
    return graph


def _cycles(graph: dict[str, dict[str, int]]) -> list[list[str]]:
    """One shortest cycle through each strongly connected group of modules (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[set[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.add(w)
                if w == v:
                    break
            if len(group) > 1:
                groups.append(group)

    for v in sorted(graph):
        if v not in index:
            visit(v)
    out = []
    for group in groups:
        start = min(group)
        # breadth-first from start back to start, inside the group: the shortest circle
        paths = {start: [start]}
        queue = [start]
        found: list[str] | None = None
        while queue and found is None:
            v = queue.pop(0)
            for w in sorted(graph[v]):
                if w == start:
                    found = [*paths[v], start]
                    break
                if w in group and w not in paths:
                    paths[w] = [*paths[v], w]
                    queue.append(w)
        assert found is not None
        out.append(found)
    return out


def test_the_tree_is_read():
    assert {"backend.system", "backend.api.app", "dashboard.app"} <= set(_sources())


def test_no_import_circle_between_project_modules():
    graph = _graph()
    found = []
    for cycle in _cycles(graph):
        steps = [f"{a} (line {graph[a][b]}) → {b}" for a, b in zip(cycle, cycle[1:], strict=False)]
        found.append("\n    ".join(steps))
    assert not found, "import circles:\n  " + "\n  ".join(found)


def test_the_cycle_finder_finds_a_circle():
    graph = {"a": {"b": 1}, "b": {"c": 2}, "c": {"a": 3, "d": 4}, "d": {}}
    assert _cycles(graph) == [["a", "b", "c", "a"]]


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def test_no_private_name_is_imported_from_another_module():
    bad = []
    for imp in _imports():
        if _project_module(imp.module) is None and not imp.module.startswith(PACKAGES):
            continue  # third-party code is not ours to judge
        private = [n for n in imp.names if _private(n)]
        private += [p for p in imp.module.split(".") if _private(p)]
        if private:
            bad.append(f"{imp.importer}:{imp.line} takes {', '.join(private)} from {imp.module}")
    assert not bad, "private names imported:\n  " + "\n  ".join(bad)


#: (importer, imported) pairs let through, each with the reason
SCREEN_IMPORTS_ALLOWED = {
    # `gridwatch serve` and `gridwatch demo` start the web server, which is the dashboard:
    # the CLI is the program's top, the one module above both. Moving those commands out of
    # backend/ (an entry point in dashboard/) would change the installed script and the CLI's
    # tests; until then this one function-level import is the only way in.
    ("backend.cli", "dashboard.app"),
}


def test_the_backend_never_imports_the_screens():
    bad = []
    for imp in _imports():
        if imp.importer.split(".")[0] != "backend":
            continue
        targets = [imp.module, *(f"{imp.module}.{n}" for n in imp.names)]
        for target in targets:
            module = _project_module(target) or target
            if module.split(".")[0] in SCREENS and (imp.importer, module) not in (
                SCREEN_IMPORTS_ALLOWED
            ):
                bad.append(f"{imp.importer}:{imp.line} imports {module}")
    assert not bad, "the backend imports the screens:\n  " + "\n  ".join(sorted(set(bad)))


# ----------------------------------------------------------------------------- OpenAPI


@pytest.fixture
def openapi(system):
    from fastapi.testclient import TestClient

    from backend.api.app import create_api

    r = TestClient(create_api(system)).get("/openapi.json")
    assert r.status_code == 200
    return r.json()


#: POST routes that take no body: the request is the URL
BODILESS_POSTS: set[str] = {"/logout"}  # signing out takes nothing but the cookie


def test_every_post_route_documents_its_request_body(openapi):
    missing = []
    for path, ops in openapi["paths"].items():
        post = ops.get("post")
        if post is None or path in BODILESS_POSTS:
            continue
        content = post.get("requestBody", {}).get("content", {})
        if not content or not all(c.get("schema") for c in content.values()):
            missing.append(path)
    assert not missing, f"POST routes without a request body schema: {missing}"
