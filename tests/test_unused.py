"""Nothing kept that nothing uses: every component id in ``layouts/ids.py`` is used outside it,
and every key of the translation table is looked up, either by its literal name or through a
family of keys the code builds with an f-string (``f"tier_{tier}"``). A family's suffixes are
the code's own vocabulary (its enums and the tuples that drive its loops), never "anything
after the prefix", so a key of a family member that is gone shows up here too. The other way
round, every key a family builds is in the table (a missing one shows as ``[key]``)."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Iterator
from datetime import date
from pathlib import Path

from backend.api.routes.work import HANDLER_ACTIONS
from backend.auth.audit import ACTIONS as AUDIT_ACTIONS
from backend.auth.permissions import Role
from backend.core.i18n import MESSAGES, TEXT
from backend.domain.events import SPECS, EventType, StageEnd, Ticker
from backend.domain.vocabulary import Channel, Colour, Rating, Status, Tier
from backend.drill.assessment import WEIGHTS
from backend.drill.export import COLUMNS, RATE_BASES
from backend.drill.periods import KINDS, period_of
from backend.drill.risk import BASES
from backend.intake.service import RECEIVING, REJECTED, TRIAGE
from backend.queries.bottlenecks import OUTCOMES
from backend.queries.reports import FIGURES
from backend.queries.risk_bands import BANDS
from callbacks.leader.case import ACTIONS
from layouts.wall import TILES

ROOT = Path(__file__).resolve().parent.parent
#: the code that shows things to people (the benchmarks and tests use ids, but no id lives
#: for them alone)
RUNTIME = ("backend", "dashboard", "callbacks", "layouts")
IDS = ROOT / "layouts" / "ids.py"
I18N = ROOT / "backend" / "core" / "i18n.py"
TEMPLATES = ROOT / "backend" / "api" / "templates"


def _values(items: Iterable[object]) -> set[str]:
    return {str(getattr(i, "value", i)) for i in items}


#: prefix → every suffix the code puts after it
FAMILIES: dict[str, set[str]] = {
    "tier_": _values(Tier),
    "status_": _values(Status),
    "channel_": _values(Channel),
    "colour_": _values(Colour),
    # layouts/leader/case.py: a rating or a revisit without an answer reads "rating_None"
    "rating_": _values(Rating) | {"None"},
    # the citizen's tracking page: a case's status, or the state of a report not yet a case
    # ("deciding": backend/intake/store.py, while a person decides a triaged report)
    "qs_": _values(Status) | {TRIAGE, RECEIVING, "deciding", REJECTED},
    "ev_": _values(EventType),
    "track_ev_": {t for t, spec in SPECS.items() if spec.citizen is not None},
    "event_": _values(Ticker),
    "end_": _values(StageEnd),
    "node_": set(OUTCOMES.values()),
    # layouts/leader/analysis.py: the bands, then the open cases without a deadline
    "risk_": {name for name, _lo, _hi in BANDS} | {"none"},
    "period_": set(KINDS),
    "dekad_": {str(period_of("dekad", date(2026, 1, d)).dekad) for d in (1, 11, 21)},
    "w_": set(WEIGHTS),
    "fig_": set(FIGURES),
    "act_done_": set(ACTIONS.values()),
    # backend/drill/export.py: the leader's workbook, its text columns and the bases of rates
    "xl_col_": set(COLUMNS) - set(FIGURES),
    "xl_base_": set(RATE_BASES),
    # the administrator's pages: roles, and what the audit log records
    "role_": {r.value for r in Role},
    "audit_": set(AUDIT_ACTIONS),
    # layouts/wall.py: what each tile counts, a hover or tap away
    "def_": {tile.key for tile in TILES},
    # layouts/leader/words.py: a risk's basis, a simulated reporter's channel
    "basis_": set(BASES),
    "channel_who_": _values(Channel),
    # callbacks/leader/case.py: the fields of the leader's forms
    "invalid_": {"text", "unit", "reason", "lead", "co_units"},
    # the handler's workbench: an action's button and the note after it (and a patrol report)
    "wb_act_": set(HANDLER_ACTIONS),
    "wb_done_": set(HANDLER_ACTIONS) | {"patrol"},
}


def _python_files(packages: Iterable[str]) -> Iterator[tuple[Path, ast.Module]]:
    for package in packages:
        for path in sorted((ROOT / package).rglob("*.py")):
            yield path, ast.parse(path.read_text("utf-8"), str(path))


def _strings_and_prefixes() -> tuple[set[str], set[str]]:
    """Every string literal of the runtime code (and every key the QR page's templates look
    up), and the constant heads of the strings it builds (f"tier_{t}", "w_" + k)."""
    literals: set[str] = set()
    prefixes: set[str] = set()
    for path, tree in _python_files(RUNTIME):
        if path == I18N:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                literals.add(node.value)
            elif isinstance(node, ast.JoinedStr) and node.values:
                head = node.values[0]
                if isinstance(head, ast.Constant) and isinstance(head.value, str):
                    prefixes.add(head.value)
            elif (
                isinstance(node, ast.BinOp)
                and isinstance(node.op, ast.Add)
                and isinstance(node.left, ast.Constant)
                and isinstance(node.left.value, str)
            ):
                prefixes.add(node.left.value)
    for template in TEMPLATES.glob("*.html"):
        literals.update(re.findall(r"""\btr\(\s*['"](\w+)['"]""", template.read_text("utf-8")))
    return literals, prefixes


def test_every_translation_key_is_used():
    literals, _prefixes = _strings_and_prefixes()
    built = {prefix + suffix for prefix, suffixes in FAMILIES.items() for suffix in suffixes}
    # the engine's words and its one pattern, looked up by backend.core.i18n.message
    built |= set(MESSAGES.values()) | {"why_auto_escalation"}
    unused = sorted(k for k in TEXT if k not in literals and k not in built)
    assert not unused, f"translation keys nothing looks up: {unused}"


def test_every_family_is_built_by_the_code_and_translated():
    _literals, prefixes = _strings_and_prefixes()
    assert not set(FAMILIES) - prefixes, "families no f-string builds any more"
    missing = sorted(
        prefix + suffix
        for prefix, suffixes in FAMILIES.items()
        for suffix in suffixes
        if prefix + suffix not in TEXT
    )
    assert not missing, f"keys the code builds without a translation: {missing}"


def _defined_ids() -> set[str]:
    tree = ast.parse(IDS.read_text("utf-8"))
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
        elif isinstance(node, ast.FunctionDef):
            names.add(node.name)
    return names


def test_every_component_id_is_used_outside_its_module():
    used: set[str] = set()
    for path, tree in _python_files((*RUNTIME, "bench")):
        if path == IDS:
            continue
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id == "ids"
            ):
                used.add(node.attr)
            elif isinstance(node, ast.ImportFrom) and node.module == "layouts.ids":
                used.update(a.name for a in node.names)
    defined = _defined_ids()
    assert defined, "no ids found in layouts/ids.py"
    unused = sorted(defined - used)
    assert not unused, f"component ids nothing uses: {unused}"
