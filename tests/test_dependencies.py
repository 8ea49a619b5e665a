"""Every third-party module the code imports is declared in ``pyproject.toml``, and every
declared distribution is imported (or named below with the reason it is needed without an
import). The runtime packages' imports must be runtime dependencies; the tests' and the
benchmarks' may be in the ``dev`` extra."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUNTIME = ("backend", "dashboard", "callbacks", "layouts")
DEV_ONLY = ("bench", "tests")
LOCAL = {*RUNTIME, *DEV_ONLY}

#: import name → distribution name, where the two differ
DISTRIBUTION = {
    "yaml": "PyYAML",
    "dash_bootstrap_components": "dash-bootstrap-components",
    "dash_ag_grid": "dash-ag-grid",
    "chinese_calendar": "chinesecalendar",
    "pydantic_settings": "pydantic-settings",
    "websocket": "websocket-client",
    "argon2": "argon2-cffi",
}

#: declared distributions that no module imports by name, and why they are needed
NOT_IMPORTED = {
    "hiredis": "redis-py's C reply parser, used when installed",
    "psycopg": "SQLAlchemy's PostgreSQL driver, named by DATABASE_URL",
    "openpyxl": "pandas' XLSX engine (the report's export names it, the tests read with it)",
    "tzdata": "the IANA time zones for zoneinfo where the system has none",
    "python-multipart": "FastAPI's form parsing (the QR page's form and photo)",
    "django-bootstrap-static": "Bootstrap's CSS as package data, served locally",
    "ruff": "lint (ruff check, ruff format)",
    "mypy": "type checks",
    "types-pyyaml": "PyYAML's stubs, for mypy",
}


def _norm(name: str) -> str:
    """A distribution name as PEP 503 compares them."""
    return re.sub(r"[-_.]+", "-", name).lower()


def _requirement_name(spec: str) -> str:
    return _norm(re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", spec).group(1))  # type: ignore[union-attr]


def _declared() -> tuple[set[str], set[str]]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]
    runtime = {_requirement_name(s) for s in project["dependencies"]}
    dev = {_requirement_name(s) for s in project["optional-dependencies"]["dev"]}
    return runtime, dev


def _imports(package: str) -> dict[str, set[str]]:
    """Third-party top-level module → the files of ``package`` that import it."""
    found: dict[str, set[str]] = {}
    for path in sorted((ROOT / package).rglob("*.py")):
        tree = ast.parse(path.read_text("utf-8"), str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top in sys.stdlib_module_names or top in LOCAL or top == "__future__":
                    continue
                found.setdefault(top, set()).add(str(path.relative_to(ROOT)))
    return found


def _distribution(module: str) -> str:
    return _norm(DISTRIBUTION.get(module, module))


def test_every_import_of_the_runtime_packages_is_a_runtime_dependency():
    runtime, _dev = _declared()
    missing = {
        module: sorted(files)
        for package in RUNTIME
        for module, files in _imports(package).items()
        if _distribution(module) not in runtime
    }
    assert not missing, f"imported but not in [project] dependencies: {missing}"


def test_every_import_of_the_tests_and_benchmarks_is_declared():
    runtime, dev = _declared()
    missing = {
        module: sorted(files)
        for package in DEV_ONLY
        for module, files in _imports(package).items()
        if _distribution(module) not in runtime | dev
    }
    assert not missing, f"imported but not declared (dependencies or the dev extra): {missing}"


def test_every_declared_distribution_is_used():
    runtime, dev = _declared()
    used_at_runtime = {_distribution(m) for p in RUNTIME for m in _imports(p)}
    used = used_at_runtime | {_distribution(m) for p in DEV_ONLY for m in _imports(p)}
    excused = {_norm(d) for d in NOT_IMPORTED}
    unused_runtime = sorted(runtime - used_at_runtime - excused)
    assert not unused_runtime, f"runtime dependencies the runtime never imports: {unused_runtime}"
    unused_dev = sorted(dev - used - excused)
    assert not unused_dev, f"dev dependencies nothing imports: {unused_dev}"
