"""The request models of backend/api/schemas.py document what the validators accept, field for
field: the docs (``/openapi.json``) and the validators cannot drift apart.

The validators stay the authority (they give the 422's per-field messages); these tests read
which fields each one looks at and which it refuses as unknown, and compare with the model.
"""

from __future__ import annotations

import ast
import inspect
import textwrap
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import BaseModel

from backend.api.app import create_api
from backend.api.routes import cases as case_routes
from backend.api.routes import intake as intake_routes
from backend.api.routes import open311, qr
from backend.api.schemas import (
    CaseAction,
    NewCase,
    Open311Request,
    QrRating,
    QrReport,
    TextMessage,
    TriageDecision,
)
from backend.core.errors import CommandInvalid
from backend.domain.transitions import ACTIONS, validate_new_case
from backend.intake.service import Intake, Report


class Recorder(dict[str, Any]):
    """A body that remembers every field a validator looks up."""

    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.asked: set[str] = set()

    def get(self, key: str, default: Any = None) -> Any:
        self.asked.add(key)
        return super().get(key, default)

    def __getitem__(self, key: str) -> Any:
        self.asked.add(key)
        return super().__getitem__(key)

    def pop(self, key: str, *default: Any) -> Any:
        self.asked.add(key)
        return super().pop(key, *default)


def _errors(fn: Callable[[], object]) -> dict[str, str]:
    with pytest.raises(CommandInvalid) as exc:
        fn()
    return exc.value.errors


def _names(model: type[BaseModel]) -> set[str]:
    """The model's fields as the body spells them (aliases included)."""
    return {f.alias or name for name, f in model.model_fields.items()}


def test_a_new_case_documents_the_fields_the_validator_reads(system):
    body = Recorder()
    _errors(lambda: validate_new_case(body, system.ref))
    # the route takes ref and dedupe off the body before the domain's validator sees it
    assert body.asked == _names(NewCase) - {"ref", "dedupe"}
    for name in sorted(body.asked):
        errors = _errors(lambda n=name: validate_new_case({n: ["?"]}, system.ref))
        assert errors.get(name) != "unknown field", name
    assert _errors(lambda: validate_new_case({"colour": "red"}, system.ref))["colour"] == (
        "unknown field"
    )
    assert NewCase.model_config.get("extra") == "forbid"


def test_a_new_case_takes_ref_and_dedupe_beside_the_case(system):
    with system.db.begin() as conn:
        from backend.auth.apikeys import create_key

        key = create_key(conn, "schemas", system.clock.now())
    c = TestClient(create_api(system), headers={"Authorization": f"Bearer {key}"})
    r = c.post("/api/v1/cases", json={"ref": 1, "dedupe": "no"})
    assert r.status_code == 422 and set(r.json()["errors"]) == {"ref"}
    r = c.post("/api/v1/cases", json={"ref": "r-1", "dedupe": "no"})
    assert r.status_code == 422 and set(r.json()["errors"]) == {"dedupe"}


def test_a_case_action_documents_the_fields_the_route_reads():
    body = Recorder()
    _errors(lambda: case_routes.action_of(body, "client"))
    assert body.asked == {"action"}  # refused at once: no action
    body = Recorder({"action": "accept"})
    case_routes.action_of(body, "client")
    assert body.asked == set(CaseAction.model_fields) == {"action", "actor", "params"}
    assert _errors(lambda: case_routes.action_of({"action": 1}, "c")) == {"action": "required"}
    assert "actor" in _errors(lambda: case_routes.action_of({"action": "a", "actor": 1}, "c"))
    assert "params" in _errors(lambda: case_routes.action_of({"action": "a", "params": 1}, "c"))
    # the action's own parameters may stand beside it: the model lets them through
    assert CaseAction.model_config.get("extra") == "allow"
    action = CaseAction.model_json_schema()["properties"]["action"]
    assert action["enum"] == sorted(ACTIONS)


SKEW = timedelta(minutes=5)


def test_a_text_message_documents_the_fields_the_validator_reads(system):
    body = Recorder()
    _errors(lambda: intake_routes.check_text_message(body, system.ref, system.clock.now(), SKEW))
    assert body.asked == _names(TextMessage)
    for name in sorted(body.asked):
        errors = _errors(
            lambda n=name: intake_routes.check_text_message(
                {n: 1}, system.ref, system.clock.now(), SKEW
            )
        )
        assert name in errors and errors[name] != "unknown field", name
    errors = _errors(
        lambda: intake_routes.check_text_message(
            {"colour": 1}, system.ref, system.clock.now(), SKEW
        )
    )
    assert errors["colour"] == "unknown field"


def test_a_triage_decision_documents_the_fields_intake_reads(system):
    intake = Intake(system)
    out = intake.submit(Report(channel="hotline", text="喂喂，听得到吗", triage="unclear"), "t")
    body = Recorder()
    _errors(lambda: intake.decide(out.report_id, body, "t"))
    assert body.asked == _names(TriageDecision)
    for name in sorted(body.asked - {"reject"}):
        errors = _errors(lambda n=name: intake.decide(out.report_id, {n: "x", "zzz": 1}, "t"))
        assert errors == {"zzz": "unknown field"}, name
    assert "reject" in _errors(lambda: intake.decide(out.report_id, {"reject": " "}, "t"))


# ----------------------------------------------------------------------------- forms


def _form_fields(fn: Callable[..., object]) -> set[str]:
    """The names a route reads from its form: ``field(form, "name")``, ``files(form, "name")``
    and ``field(form, k) … for k in ("a", "b")``, read from the route's source."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(inspect.unwrap(fn))))
    names: set[str] = set()
    loops: dict[str, list[str]] = {}
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.comprehension)
            and isinstance(node.target, ast.Name)
            and isinstance(node.iter, ast.Tuple)
        ):
            loops[node.target.id] = [e.value for e in node.iter.elts if isinstance(e, ast.Constant)]
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in ("field", "files")
            and len(node.args) >= 2
        ):
            arg = node.args[1]
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                names.add(arg.value)
            elif isinstance(arg, ast.Name):
                names.update(loops[arg.id])
    return names


def test_the_open311_form_documents_the_fields_the_route_reads():
    assert _form_fields(open311.post_request) == _names(Open311Request)


def test_the_qr_forms_document_the_fields_the_routes_read():
    assert _form_fields(qr.report_submit) == _names(QrReport)
    assert _form_fields(qr.rate) == _names(QrRating)


def test_the_form_reader_finds_names():
    def route(form: Any) -> None:
        field(form, "a")  # noqa: F821
        files(form, "b")  # noqa: F821
        {k: field(form, k) for k in ("c", "d")}  # noqa: F821

    assert _form_fields(route) == {"a", "b", "c", "d"}
