"""backend.deadlines.policy: rule resolution, validation with exact positions, shipped packs."""

from __future__ import annotations

import itertools
import logging
from pathlib import Path

import pytest

from backend.deadlines.policy import (
    CHANNELS,
    COMPLEXITIES,
    MODES,
    SEVERITIES,
    TIERS,
    NoMatchingRule,
    PolicyError,
    PolicyPack,
    TierRule,
    builtin_policy,
    list_builtin_policies,
    load_policy,
    load_policy_text,
    policy_from_setting,
)
from backend.deadlines.workcalendar import Allowance


def lines(*ls: str) -> str:
    """Join lines so each test text's line numbers are easy to read off."""
    return "\n".join(ls) + "\n"


TIER_RULES = (
    "  - {tier: grid, allowance: 1 wd, auto_escalate: true}",
    "  - {tier: township, allowance: 5 wd, auto_escalate: true}",
    "  - {tier: department, allowance: 10 wd, auto_escalate: true}",
    "  - {tier: county, allowance: 15 wd}",
)


def case(pack: PolicyPack, tier: str = "township", **kw: str | None) -> TierRule:
    args: dict[str, str | None] = {
        "channel": "hotline",
        "category": None,
        "severity": "general",
        "complexity": "general",
    }
    args.update(kw)
    return pack.resolve(tier=tier, **args)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------
# Resolution
# ---------------------------------------------------------------------------------------------


def test_most_specific_rule_wins() -> None:
    pack = load_policy_text(
        lines(
            "rules:",
            "  - {tier: township, channel: qr, category: road, allowance: 2 wd}",  # rules[0]
            *TIER_RULES,  # rules[1..4]
            "  - {tier: township, channel: qr, allowance: 3 wd}",  # rules[5]
        )
    )
    assert case(pack).allowance == Allowance(5, "wd")
    assert case(pack).rule_index == 2
    # Two keys beat one, whatever the order in the file.
    qr = case(pack, channel="qr")
    assert (qr.allowance, qr.rule_index) == (Allowance(3, "wd"), 5)
    # Three keys beat two.
    road = case(pack, channel="qr", category="road")
    assert (road.allowance, road.rule_index) == (Allowance(2, "wd"), 0)
    # Every key a rule sets must match: a road case reported by hotline is not a QR case.
    assert case(pack, category="road").rule_index == 2
    assert case(pack, tier="grid", channel="qr", category="road").rule_index == 1


def test_ties_go_to_the_first_listed_rule() -> None:
    body = [
        "  - {tier: township, channel: qr, allowance: 3 wd}",
        "  - {tier: township, severity: major, allowance: 4 wd}",
    ]
    first = load_policy_text(lines("rules:", *TIER_RULES, *body))
    rule = case(first, channel="qr", severity="major")
    assert (rule.allowance, rule.rule_index) == (Allowance(3, "wd"), 4)
    swapped = load_policy_text(lines("rules:", *TIER_RULES, *reversed(body)))
    rule = case(swapped, channel="qr", severity="major")
    assert (rule.allowance, rule.rule_index) == (Allowance(4, "wd"), 4)
    # Each alone still applies where only it matches.
    assert case(first, severity="major").allowance == Allowance(4, "wd")


def test_mode_and_defaults() -> None:
    pack = load_policy_text(
        lines(
            "rules:",
            "  - {mode: consultation, allowance: 10 wd}",
            *TIER_RULES,
            "  - {tier: grid, complexity: simple, allowance: 8 wh}",
        )
    )
    assert pack.name == "custom" and pack.title == "custom"
    assert (pack.reminder, pack.warning) == (0.5, 0.8)
    assert case(pack, tier="grid").allowance == Allowance(1, "wd")  # mode defaults to normal
    assert case(pack, tier="grid", mode="consultation").allowance == Allowance(10, "wd")
    assert case(pack, tier="grid", complexity="simple").allowance == Allowance(8, "wh")
    assert case(pack, tier="grid", complexity=None).allowance == Allowance(1, "wd")
    assert case(pack, tier="grid").auto_escalate is True
    assert case(pack, tier="county").auto_escalate is False  # default false


def test_catch_all_rule_covers_every_tier() -> None:
    pack = load_policy_text(lines("rules:", "  - {allowance: 3 wd}"))
    for tier in TIERS:
        assert case(pack, tier=tier).allowance == Allowance(3, "wd")


def test_resolve_is_cached_and_rejects_unknown_tier() -> None:
    pack = load_policy_text(lines("rules:", *TIER_RULES))
    assert case(pack) is case(pack)
    with pytest.raises(NoMatchingRule, match="planet"):
        case(pack, tier="planet")


def test_resolve_accepts_domain_enums() -> None:
    from backend.domain.vocabulary import Channel, Severity, Tier

    pack = builtin_policy("default")
    a = pack.resolve(
        tier=Tier.TOWNSHIP,
        channel=Channel.QR,
        category=None,
        severity=Severity.GENERAL,
        complexity="general",
    )
    b = case(pack, channel="qr")
    assert a is b


def test_vocabulary_matches_domain() -> None:
    from backend.domain.vocabulary import Channel, Severity, Tier

    assert tuple(t.value for t in Tier) == TIERS
    assert set(CHANNELS) == {c.value for c in Channel}
    assert set(SEVERITIES) == {s.value for s in Severity}


# ---------------------------------------------------------------------------------------------
# Errors, each at an exact line and column
# ---------------------------------------------------------------------------------------------


def test_error_message_format_matches_the_documented_example() -> None:
    text = lines(
        "name: t",  # 1
        "rules:",  # 2
        "- {tier: grid, allowance: 1 wd}",  # 3
        "- {tier: township, allowance: 5 wd}",  # 4
        "- tier: department",  # 5
        "  allowance:",  # 6
        "    5 days",  # 7: the value starts at column 5
        "- {tier: county, allowance: 15 wd}",  # 8
    )
    with pytest.raises(PolicyError) as err:
        load_policy_text(text, "policy.yaml")
    assert str(err.value) == (
        "policy.yaml:7:5: rules[2].allowance: '5 days' is not an allowance "
        "(use e.g. '5 wd', '8 wh', '24 h')"
    )
    assert (err.value.source, err.value.line, err.value.column) == ("policy.yaml", 7, 5)


BAD = [
    pytest.param(
        # Line 6: "  - {" puts "{" at column 5; "tier: township, " fills 6-21; key at 22.
        lines(
            "name: t",
            "rules:",
            TIER_RULES[0],
            TIER_RULES[2],
            TIER_RULES[3],
            "  - {tier: township, alowance: 5 wd}",
        ),
        6,
        22,
        "rules[3]: unknown key 'alowance' (allowed: tier, channel, category",
        id="unknown-rule-key",
    ),
    pytest.param(
        # Line 7: "channel: " fills 22-30, so the value is at column 31.
        lines(
            "name: t", "rules:", *TIER_RULES, "  - {tier: township, channel: fax, allowance: 5 wd}"
        ),
        7,
        31,
        "rules[4].channel: 'fax' is not one of: grid_worker, hotline, qr, wechat, walk_in, app",
        id="bad-channel",
    ),
    pytest.param(
        lines("rules:", *TIER_RULES, "  - {severity: critical, allowance: 1 h}"),
        6,
        16,
        "rules[4].severity: 'critical' is not one of: general, major, urgent",
        id="bad-severity",
    ),
    pytest.param(
        lines("rules:", *TIER_RULES, "  - {complexity: hard, allowance: 1 h}"),
        6,
        18,
        "is not one of: simple, general, complex",
        id="bad-complexity",
    ),
    pytest.param(
        lines("rules:", *TIER_RULES, "  - {tier: city, allowance: 1 h}"),
        6,
        12,
        "rules[4].tier: 'city' is not one of: grid, township, department, county",
        id="bad-tier",
    ),
    pytest.param(
        lines("rules:", *TIER_RULES, "  - {mode: urgent, allowance: 1 h}"),
        6,
        12,
        "rules[4].mode: 'urgent' is not one of: normal, consultation",
        id="bad-mode",
    ),
    pytest.param(
        # The rule mapping itself starts at the "{" in column 5 of line 5.
        lines("rules:", *TIER_RULES[:3], "  - {tier: county}"),
        5,
        5,
        "rules[3]: missing 'allowance'",
        id="missing-allowance",
    ),
    pytest.param(
        lines("rules:", "  - {tier: grid, allowance: 0.5 wd}", *TIER_RULES[1:]),
        2,
        29,
        "rules[0].allowance: '0.5 wd': working days must be a whole number",
        id="fractional-wd",
    ),
    pytest.param(
        lines("rules:", "  - {tier: grid, allowance: 24}", *TIER_RULES[1:]),
        2,
        29,
        "'24' is not an allowance",
        id="allowance-without-unit",
    ),
    pytest.param(
        # "thresholds: {" puts "{" at 13; "reminder: 0.9, " fills 14-28; "warning: " 29-37.
        lines(
            "name: t",
            "title: T",
            "thresholds: {reminder: 0.9, warning: 0.8}",
            "rules:",
            *TIER_RULES,
        ),
        3,
        38,
        "thresholds: need 0 < reminder < warning < 1",
        id="reminder-after-warning",
    ),
    pytest.param(
        lines("thresholds:", "  reminder: 0", "  warning: 0.8", "rules:", *TIER_RULES),
        2,
        13,
        "got reminder=0, warning=0.8",
        id="reminder-zero",
    ),
    pytest.param(
        lines("thresholds:", "  warning: 1.2", "rules:", *TIER_RULES),
        2,
        12,
        "need 0 < reminder < warning < 1",
        id="warning-above-one",
    ),
    pytest.param(
        lines("thresholds: {reminder: half}", "rules:", *TIER_RULES),
        1,
        24,
        "thresholds.reminder: 'half' is not a number",
        id="threshold-not-number",
    ),
    pytest.param(
        lines("thresholds: {reminder: 0.5, alert: 0.9}", "rules:", *TIER_RULES),
        1,
        29,
        "thresholds: unknown key 'alert' (allowed: reminder, warning)",
        id="threshold-unknown-key",
    ),
    pytest.param(
        lines("name: t", "rules: []"),
        2,
        8,
        "rules: empty",
        id="empty-rules-list",
    ),
    pytest.param(
        lines("name: t", "rules:", "title: x"),
        2,
        1,
        "rules: empty",
        id="null-rules",
    ),
    pytest.param(
        lines("name: t", "title: x"),
        1,
        1,
        "missing 'rules'",
        id="missing-rules",
    ),
    pytest.param(
        # No rule that only sets tier: county (the urgent one sets severity too). Reported at
        # the "rules:" key on line 3.
        lines(
            "name: t",
            "title: x",
            "rules:",
            *TIER_RULES[:3],
            "  - {tier: county, severity: urgent, allowance: 15 wd}",
        ),
        3,
        1,
        "rules: no rule covers every case at tier 'county'",
        id="tier-not-covered",
    ),
    pytest.param(
        lines("name: t", "titel: x", "rules:", *TIER_RULES),
        2,
        1,
        "unknown key 'titel' (allowed: name, title, thresholds, rules)",
        id="unknown-top-key",
    ),
    pytest.param(
        # "{tier: grid, " fills 5-17, so the second "tier" is at 18.
        lines("rules:", "  - {tier: grid, tier: township, allowance: 1 wd}", *TIER_RULES),
        2,
        18,
        "rules[0]: duplicate key 'tier'",
        id="duplicate-key",
    ),
    pytest.param(
        lines(
            "rules:", *TIER_RULES[:3], "  - {tier: county, allowance: 15 wd, auto_escalate: maybe}"
        ),
        5,
        53,
        "rules[3].auto_escalate: 'maybe' is not true or false",
        id="bad-boolean",
    ),
    pytest.param(
        lines("rules:", *TIER_RULES, "  - grid 1 wd"),
        6,
        5,
        "rules[4] must be a mapping",
        id="rule-not-mapping",
    ),
    pytest.param(
        lines("rules:", *TIER_RULES, "  - {tier: [grid, township], allowance: 1 wd}"),
        6,
        12,
        "rules[4].tier: expected a single value, got a list",
        id="list-value",
    ),
    pytest.param(
        lines("- {tier: grid, allowance: 1 wd}"),
        1,
        1,
        "policy file must be a mapping",
        id="top-level-list",
    ),
    pytest.param(
        # Line 3 closes its flow mapping twice; the stray "}" is at column 34.
        lines("name: t", "rules:", "  - {tier: grid, allowance: 1 wd}}", *TIER_RULES[1:]),
        3,
        34,
        "YAML syntax error",
        id="yaml-syntax",
    ),
    pytest.param(
        # A tab cannot start a token in YAML: line 2, column 1.
        "rules:\n\t- {allowance: 1 wd}\n",
        2,
        1,
        "YAML syntax error",
        id="yaml-tab",
    ),
    pytest.param("", 1, 1, "empty policy file", id="empty-file"),
]


@pytest.mark.parametrize(("text", "line", "column", "fragment"), BAD)
def test_errors_name_line_and_column(text: str, line: int, column: int, fragment: str) -> None:
    with pytest.raises(PolicyError) as err:
        load_policy_text(text, "p.yaml")
    e = err.value
    assert (e.source, e.line, e.column) == ("p.yaml", line, column), str(e)
    assert fragment in str(e)
    assert str(e).startswith(f"p.yaml:{line}:{column}: ")


def test_load_policy_file(tmp_path: Path) -> None:
    f = tmp_path / "city.yaml"
    f.write_text(lines("title: 城市 / city", "rules:", *TIER_RULES), encoding="utf-8")
    pack = load_policy(f)
    assert (pack.name, pack.title, pack.source) == ("city", "城市 / city", str(f))
    bad = tmp_path / "bad.yaml"
    bad.write_text(lines("rules:", "  - {tier: grid, allowance: 5 days}"), encoding="utf-8")
    with pytest.raises(PolicyError) as err:
        load_policy(bad)
    assert str(err.value).startswith(f"{bad}:2:29: rules[0].allowance: '5 days'")
    with pytest.raises(PolicyError, match="cannot read"):
        load_policy(tmp_path / "missing.yaml")


def test_rule_that_never_applies_is_reported(caplog: pytest.LogCaptureFixture) -> None:
    # The pack as first sketched: the consultation rule (line 10) sets one key like the per-tier
    # rules above it, so on a tie the earlier tier rule always wins and it never applies.
    text = lines(
        "name: default",  # 1
        "title: sketch",  # 2
        "thresholds: {reminder: 0.5, warning: 0.8}",  # 3
        "rules:",  # 4
        *TIER_RULES,  # 5-8
        "  - {tier: township, channel: qr, allowance: 5 wd, auto_escalate: true}",  # 9
        "  - {mode: consultation, allowance: 10 wd, auto_escalate: true}",  # 10
        "  - {mode: consultation, complexity: complex, allowance: 15 wd}",  # 11
        "  - {severity: urgent, tier: department, allowance: 24 h, auto_escalate: true}",  # 12
    )
    with caplog.at_level(logging.WARNING, logger="gridwatch.policy"):
        pack = load_policy_text(text, "sketch.yaml")
    assert len(pack.warnings) == 1
    assert pack.warnings[0].startswith("sketch.yaml:10: rules[5] never applies")
    assert "rules[0] (line 5) is as specific and listed earlier" in pack.warnings[0]
    assert [r.getMessage() for r in caplog.records] == list(pack.warnings)
    # The pack still works; the rule simply loses.
    assert case(pack, tier="grid", mode="consultation").allowance == Allowance(1, "wd")


# ---------------------------------------------------------------------------------------------
# Shipped packs
# ---------------------------------------------------------------------------------------------


def test_builtin_packs_list_and_load_cleanly() -> None:
    assert list_builtin_policies() == ["13710", "default", "jizhou"]
    for name in list_builtin_policies():
        pack = builtin_policy(name)
        assert pack.name == name
        assert pack.warnings == ()
        assert (pack.reminder, pack.warning) == (0.5, 0.8)
        assert pack is builtin_policy(name)
    with pytest.raises(KeyError, match="available: 13710, default, jizhou"):
        builtin_policy("nope")


@pytest.mark.parametrize("name", ["default", "13710", "jizhou"])
def test_builtin_packs_resolve_every_combination(name: str) -> None:
    pack = builtin_policy(name)
    combos = itertools.product(
        TIERS, CHANNELS, (None, "road"), SEVERITIES, (*COMPLEXITIES, None), MODES
    )
    n = 0
    for tier, channel, category, severity, complexity, mode in combos:
        rule = pack.resolve(
            tier=tier,
            channel=channel,
            category=category,
            severity=severity,
            complexity=complexity,
            mode=mode,
        )
        assert isinstance(rule.allowance, Allowance)
        assert 0 <= rule.rule_index < len(pack.rules)
        n += 1
    assert n == 4 * 7 * 2 * 3 * 4 * 2


def test_default_pack_follows_the_design() -> None:
    pack = builtin_policy("default")

    def allowance(tier: str, **kw: str | None) -> str:
        return str(case(pack, tier=tier, **kw).allowance)

    assert allowance("grid") == "1 wd"
    assert allowance("township") == "5 wd"
    assert allowance("township", channel="qr") == "5 wd"
    assert case(pack, channel="qr").rule_index == 8  # the QR rule itself
    assert allowance("department") == "10 wd"
    assert allowance("county") == "15 wd"
    assert allowance("department", severity="urgent") == "24 h"
    assert allowance("grid", mode="consultation") == "10 wd"
    assert allowance("department", mode="consultation", complexity="complex") == "15 wd"
    assert allowance("county", mode="consultation") == "15 wd"
    assert case(pack, tier="grid").auto_escalate is True
    assert case(pack, tier="county").auto_escalate is False


def test_13710_pack_follows_the_scheme() -> None:
    pack = builtin_policy("13710")
    for tier in ("grid", "township"):
        assert str(case(pack, tier=tier, complexity="simple").allowance) == "3 wd"
        assert str(case(pack, tier=tier, complexity="general").allowance) == "7 wd"
        assert str(case(pack, tier=tier, complexity="complex").allowance) == "10 wd"
        assert str(case(pack, tier=tier, complexity=None).allowance) == "7 wd"
    assert str(case(pack, tier="department", complexity="simple").allowance) == "10 wd"
    assert str(case(pack, tier="county").allowance) == "15 wd"


def test_policy_from_setting(tmp_path: Path) -> None:
    assert policy_from_setting(None) is builtin_policy("default")
    assert policy_from_setting("") is builtin_policy("default")
    assert policy_from_setting("13710") is builtin_policy("13710")
    f = tmp_path / "mine.yaml"
    f.write_text(lines("rules:", *TIER_RULES), encoding="utf-8")
    assert policy_from_setting(str(f)).name == "mine"
