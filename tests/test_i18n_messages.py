"""The engine's own words reach a person only through the translation table: every reason the
state machine refuses with or records, and every field problem it answers, is said in the
page's language (issue 10: "未执行： the case is already at the county tier")."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from backend.core.errors import CommandInvalid, TransitionRefused
from backend.core.i18n import MESSAGES, message, t
from backend.domain.vocabulary import Tier
from callbacks.leader.case import field_problem, refusal

TRANSITIONS = Path(__file__).resolve().parent.parent / "backend" / "domain" / "transitions.py"
LATIN_WORD = re.compile(r"[A-Za-z]{3,}")


def _engine_reasons() -> set[str]:
    """The literal reasons of transitions.py: refusals (``_require``, ``TransitionRefused``)
    and the reasons it records (``reason=``, ``_reopen``)."""
    out: set[str] = set()
    for node in ast.walk(ast.parse(TRANSITIONS.read_text("utf-8"))):
        if not isinstance(node, ast.Call):
            continue
        name = getattr(node.func, "id", getattr(node.func, "attr", ""))
        args = list(node.args)
        if name == "_require" and len(args) == 4:
            args = [args[3]]
        elif name in ("TransitionRefused", "_reopen") and len(args) == 3:
            args = [args[2]]
        else:
            args = [k.value for k in node.keywords if k.arg == "reason"]
        for a in args:
            if isinstance(a, ast.Constant) and isinstance(a.value, str):
                out.add(a.value)
            elif isinstance(a, ast.BinOp):  # "triage: " + ("…" if … else "…")
                right = a.right
                if isinstance(a.left, ast.Constant) and isinstance(right, ast.IfExp):
                    for branch in (right.body, right.orelse):
                        if isinstance(branch, ast.Constant):
                            out.add(a.left.value + branch.value)
    return out


def test_every_reason_the_engine_gives_is_in_the_table():
    reasons = _engine_reasons()
    assert len(reasons) > 20  # the walk found them
    missing = sorted(r for r in reasons if r not in MESSAGES)
    assert not missing, f"engine reasons with no translation: {missing}"
    for r in reasons:
        zh = message(r, "zh")
        assert not LATIN_WORD.search(zh), (r, zh)
        assert message(r, "en")  # and an English line for the English page


def test_auto_escalation_names_its_tier_and_a_persons_words_pass_through():
    assert message("auto-escalation: overdue at grid", "zh") == "网格超期，自动升级"
    for tier in Tier:
        assert not LATIN_WORD.search(message(f"auto-escalation: overdue at {tier.value}"))
    assert message("已处置完毕", "zh") == "已处置完毕"
    assert message(None) == "" and message("") == ""


@pytest.mark.parametrize(
    ("field", "problem", "expected"),
    [
        ("text", "required, the instruction's text", "请填写批示内容"),
        ("text", "a text of at most 2000 characters", "批示内容过长，最多 2000 字"),
        ("reason", "escalate needs a reason", "请填写理由"),
        ("unit", "unknown unit ['x']", "请从列表中选择改派单位"),
        ("lead", "unknown unit None", "请从列表中选择牵头单位"),
        ("co_units", "a non-empty list of known unit codes", "请从列表中选择至少一个协办单位"),
        (
            "co_units",
            "the lead unit is not also a co-responsible unit",
            "牵头单位不能同时是协办单位",
        ),
        ("holder", "something new the engine says one day", "操作有误，请检查"),
    ],
)
def test_a_field_problem_is_said_in_chinese(field, problem, expected):
    assert field_problem(field, problem, "zh") == expected
    assert not LATIN_WORD.search(field_problem(field, problem, "zh"))


def test_a_refusal_the_table_does_not_know_says_what_was_refused_in_chinese():
    text = str(refusal(TransitionRefused("rate", "accepted", "a new rule"), "zh").children)
    assert "a new rule" not in text and t("status_accepted") in text
    known = str(
        refusal(
            TransitionRefused(
                "escalate", "accepted", MESSAGES and "the case is already at the county tier"
            ),
            "zh",
        ).children
    )
    assert "该事项已在县级" in known and "county" not in known
    invalid = str(refusal(CommandInvalid({"text": "required, the instruction's text"}), "zh"))
    assert "请补充" in invalid and "请填写批示内容" in invalid and "required" not in invalid
