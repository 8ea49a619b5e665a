"""SLA policy packs: how long each tier has for a case, as user-editable YAML data.

Why data and not code: deadlines differ by city and change by decree (the default pack follows the
source reports; Jiangxi's 13710 scheme is an alternative), so operators edit a YAML file and every
mistake is reported with the file, line and column of the offending value.

Format::

    name: default                                   # short id (default: the file name)
    title: 默认时限 / default deadlines              # shown on screens (default: name)
    thresholds: {reminder: 0.5, warning: 0.8}       # fractions of the allowance, 0 < r < w < 1
    rules:
      - {tier: grid, allowance: 1 wd, auto_escalate: true}
      - {tier: township, channel: qr, allowance: 5 wd, auto_escalate: true}
      - {severity: urgent, tier: department, allowance: 24 h, note: "..."}

Rule keys:

* match keys, each optional: ``tier`` (grid, township, department, county), ``channel``
  (grid_worker, hotline, qr, wechat, walk_in, app, open311), ``category`` (any category code),
  ``severity`` (general, major, urgent), ``complexity`` (simple, general, complex), ``mode``
  (normal, consultation);
* ``allowance`` (required): ``N wd`` working days, ``N wh`` working hours, ``N h`` clock hours;
* ``auto_escalate`` (default false): on overdue, move the case up one tier (自动跳级);
* ``note``: free text, ignored.

A rule matches a case when every match key it sets equals the case's value. The most specific
matching rule (most match keys set) wins; among equally specific rules the first listed wins.
Every tier must always resolve, so each tier needs a rule that sets no match key but ``tier``
(a rule with no match key at all covers every tier). Rules that can never win are reported in
``PolicyPack.warnings`` (and logged), because that is almost always an ordering mistake.
"""

from __future__ import annotations

import itertools
import logging
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

from backend.core.errors import SourceError
from backend.deadlines.workcalendar import Allowance

__all__ = [
    "CHANNELS",
    "COMPLEXITIES",
    "MATCH_KEYS",
    "MODES",
    "SEVERITIES",
    "TIERS",
    "NoMatchingRule",
    "PolicyError",
    "PolicyPack",
    "PolicyRule",
    "TierRule",
    "builtin_policy",
    "list_builtin_policies",
    "load_policy",
    "load_policy_text",
    "policy_from_setting",
]

TIERS: tuple[str, ...] = ("grid", "township", "department", "county")
CHANNELS: tuple[str, ...] = ("grid_worker", "hotline", "qr", "wechat", "walk_in", "app", "open311")
SEVERITIES: tuple[str, ...] = ("general", "major", "urgent")
COMPLEXITIES: tuple[str, ...] = ("simple", "general", "complex")
MODES: tuple[str, ...] = ("normal", "consultation")

#: Match keys in the order of ``PolicyPack.resolve``'s key tuple; None = free-form value.
MATCH_KEYS: dict[str, tuple[str, ...] | None] = {
    "tier": TIERS,
    "channel": CHANNELS,
    "category": None,
    "severity": SEVERITIES,
    "complexity": COMPLEXITIES,
    "mode": MODES,
}
_RULE_KEYS = (*MATCH_KEYS, "allowance", "auto_escalate", "note")
_TOP_KEYS = ("name", "title", "thresholds", "rules")
_THRESHOLD_KEYS = ("reminder", "warning")
DEFAULT_REMINDER = 0.5
DEFAULT_WARNING = 0.8

_POLICY_DIR = Path(__file__).with_name("policies")
_CACHE_LIMIT = 100_000
_DEAD_RULE_CHECK_LIMIT = 200_000  # case combinations; larger packs skip the check
_log = logging.getLogger("gridwatch.policy")


class PolicyError(SourceError):
    """A policy pack that cannot be used; ``source``, ``line`` and ``column`` are 1-based."""


class NoMatchingRule(LookupError):
    """No rule of the pack matches the case (cannot happen for a validated pack and known tier)."""


@dataclass(frozen=True, slots=True)
class TierRule:
    """What ``resolve`` returns: the allowance for the case's tier and whether to auto-escalate."""

    allowance: Allowance
    auto_escalate: bool
    rule_index: int


@dataclass(frozen=True, slots=True)
class PolicyRule:
    """One rule as written in the pack (for screens that show or explain the policy)."""

    index: int
    match: tuple[tuple[str, str], ...]  # (key, value) pairs in MATCH_KEYS order
    allowance: Allowance
    auto_escalate: bool
    line: int
    note: str | None = None

    @property
    def specificity(self) -> int:
        return len(self.match)

    def matches(self, case: dict[str, str | None]) -> bool:
        return all(case.get(k) == v for k, v in self.match)


class PolicyPack:
    """A validated policy pack; ``resolve`` picks the rule for a case (cached, hot path)."""

    def __init__(
        self,
        *,
        name: str,
        title: str,
        reminder: float,
        warning: float,
        rules: tuple[PolicyRule, ...],
        source: str = "<string>",
        warnings: tuple[str, ...] = (),
    ) -> None:
        self.name = name
        self.title = title
        self.reminder = reminder
        self.warning = warning
        self.rules = rules
        self.source = source
        self.warnings = warnings
        # Most specific first; among equals, the first listed (stable sort keeps file order).
        self._ordered: tuple[tuple[tuple[tuple[int, str], ...], TierRule], ...] = tuple(
            (
                tuple((list(MATCH_KEYS).index(k), v) for k, v in r.match),
                TierRule(r.allowance, r.auto_escalate, r.index),
            )
            for r in sorted(rules, key=lambda r: -r.specificity)
        )
        self._cache: dict[tuple[str | None, ...], TierRule] = {}

    def __repr__(self) -> str:
        return f"PolicyPack(name={self.name!r}, rules={len(self.rules)}, source={self.source!r})"

    def resolve(
        self,
        *,
        tier: str,
        channel: str | None,
        category: str | None,
        severity: str | None,
        complexity: str | None,
        mode: str = "normal",
    ) -> TierRule:
        """The winning rule for a case at ``tier``; raises NoMatchingRule if none matches."""
        key = (tier, channel, category, severity, complexity, mode)
        hit = self._cache.get(key)
        if hit is not None:
            return hit
        for match, rule in self._ordered:
            for i, v in match:
                if key[i] != v:
                    break
            else:
                if len(self._cache) >= _CACHE_LIMIT:
                    self._cache.clear()
                self._cache[key] = rule
                return rule
        raise NoMatchingRule(
            f"policy {self.name!r} has no rule for tier={tier!r}, channel={channel!r}, "
            f"category={category!r}, severity={severity!r}, complexity={complexity!r}, "
            f"mode={mode!r}"
        )


# --------------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------------

_NULL = "tag:yaml.org,2002:null"
_BOOL = "tag:yaml.org,2002:bool"
_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"


Pair = tuple[yaml.Node, yaml.Node]


class _Doc:
    """Error helpers bound to one source, so every message carries file, line and column."""

    def __init__(self, source: str) -> None:
        self.source = source

    def error(self, node: yaml.Node, message: str) -> PolicyError:
        m = node.start_mark
        return PolicyError(self.source, m.line + 1, m.column + 1, message)

    def mapping(self, node: yaml.Node, what: str, allowed: tuple[str, ...]) -> dict[str, Pair]:
        if not isinstance(node, yaml.MappingNode):
            raise self.error(node, f"{what} must be a mapping ({', '.join(allowed)})")
        out: dict[str, Pair] = {}
        for k, v in node.value:
            key = k.value if isinstance(k, yaml.ScalarNode) else None
            if key not in allowed:
                raise self.error(k, f"{what}: unknown key {key!r} (allowed: {', '.join(allowed)})")
            if key in out:
                raise self.error(k, f"{what}: duplicate key {key!r}")
            out[key] = (k, v)
        return out

    def text(self, node: yaml.Node, what: str) -> str:
        if not isinstance(node, yaml.ScalarNode) or node.tag == _NULL or not node.value.strip():
            raise self.error(node, f"{what}: expected a non-empty text value")
        return node.value.strip()

    def fraction(self, node: yaml.Node, what: str) -> float:
        if isinstance(node, yaml.ScalarNode) and node.tag in (_INT, _FLOAT):
            try:
                return float(node.value.replace("_", ""))
            except ValueError:
                pass
        raise self.error(node, f"{what}: {_shown(node)} is not a number (use e.g. 0.5)")

    def boolean(self, node: yaml.Node, what: str) -> bool:
        if isinstance(node, yaml.ScalarNode) and node.tag == _BOOL:
            return node.value.lower() in ("true", "yes", "on")
        raise self.error(node, f"{what}: {_shown(node)} is not true or false")


def _shown(node: yaml.Node) -> str:
    if isinstance(node, yaml.ScalarNode):
        return repr(node.value)
    return "a list" if isinstance(node, yaml.SequenceNode) else "a mapping"


def load_policy_text(text: str, source: str = "<string>", *, name: str | None = None) -> PolicyPack:
    """Parse and validate a policy pack from YAML text; errors are PolicyError with line/column."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or "invalid YAML"
        line, col = (mark.line + 1, mark.column + 1) if mark is not None else (None, None)
        raise PolicyError(source, line, col, f"YAML syntax error: {problem}") from exc
    except yaml.YAMLError as exc:
        raise PolicyError(source, None, None, f"YAML error: {exc}") from exc
    if root is None:
        raise PolicyError(source, 1, 1, "empty policy file (needs at least 'rules')")

    doc = _Doc(source)
    top = doc.mapping(root, "policy file", _TOP_KEYS)
    pack_name = doc.text(top["name"][1], "name") if "name" in top else (name or "custom")
    title = doc.text(top["title"][1], "title") if "title" in top else pack_name

    reminder, warning = DEFAULT_REMINDER, DEFAULT_WARNING
    if "thresholds" in top:
        th = doc.mapping(top["thresholds"][1], "thresholds", _THRESHOLD_KEYS)
        if "reminder" in th:
            reminder = doc.fraction(th["reminder"][1], "thresholds.reminder")
        if "warning" in th:
            warning = doc.fraction(th["warning"][1], "thresholds.warning")
        if not 0 < reminder < warning < 1:
            # Point at the value that breaks the rule: reminder if it alone is out of range.
            culprit = "reminder" if not 0 < reminder < 1 else "warning"
            pair = th.get(culprit) or th.get("reminder") or th.get("warning")
            node = pair[1] if pair else top["thresholds"][1]
            raise doc.error(
                node,
                f"thresholds: need 0 < reminder < warning < 1 (fractions of the allowance), "
                f"got reminder={reminder:g}, warning={warning:g}",
            )

    if "rules" not in top:
        raise doc.error(root, "missing 'rules': a pack needs at least one rule per tier")
    rules_key, rules_node = top["rules"]
    if not isinstance(rules_node, yaml.SequenceNode):
        if isinstance(rules_node, yaml.ScalarNode) and rules_node.tag == _NULL:
            raise doc.error(rules_key, "rules: empty; a pack needs at least one rule per tier")
        raise doc.error(rules_node, "rules must be a list of rules")
    if not rules_node.value:
        raise doc.error(rules_node, "rules: empty; a pack needs at least one rule per tier")

    rules = tuple(_parse_rule(doc, i, n) for i, n in enumerate(rules_node.value))

    for tier in TIERS:
        if not any(
            all(k == "tier" for k, _ in r.match) and dict(r.match).get("tier", tier) == tier
            for r in rules
        ):
            raise doc.error(
                rules_key,
                f"rules: no rule covers every case at tier {tier!r}; add one that sets only "
                f"the tier, e.g. '- {{tier: {tier}, allowance: 5 wd}}', so that every case at "
                "that tier has a deadline whatever its channel, category, severity or mode",
            )

    warnings = _dead_rule_warnings(source, rules)
    for w in warnings:
        _log.warning("%s", w)
    return PolicyPack(
        name=pack_name,
        title=title,
        reminder=reminder,
        warning=warning,
        rules=rules,
        source=source,
        warnings=warnings,
    )


def _parse_rule(doc: _Doc, i: int, node: yaml.Node) -> PolicyRule:
    where = f"rules[{i}]"
    fields = doc.mapping(node, where, _RULE_KEYS)
    match: list[tuple[str, str]] = []
    for key, allowed in MATCH_KEYS.items():
        if key not in fields:
            continue
        vnode = fields[key][1]
        if not isinstance(vnode, yaml.ScalarNode) or vnode.tag == _NULL:
            raise doc.error(vnode, f"{where}.{key}: expected a single value, got {_shown(vnode)}")
        value = vnode.value.strip()
        if allowed is not None and value not in allowed:
            raise doc.error(vnode, f"{where}.{key}: {value!r} is not one of: {', '.join(allowed)}")
        if not value:
            raise doc.error(vnode, f"{where}.{key}: empty value")
        match.append((key, value))
    if "allowance" not in fields:
        raise doc.error(node, f"{where}: missing 'allowance' (e.g. 'allowance: 5 wd')")
    anode = fields["allowance"][1]
    if not isinstance(anode, yaml.ScalarNode):
        raise doc.error(anode, f"{where}.allowance: expected e.g. '5 wd', got {_shown(anode)}")
    try:
        allowance = Allowance.parse(anode.value)
    except ValueError as exc:
        raise doc.error(anode, f"{where}.allowance: {exc}") from None
    auto = False
    if "auto_escalate" in fields:
        auto = doc.boolean(fields["auto_escalate"][1], f"{where}.auto_escalate")
    note = doc.text(fields["note"][1], f"{where}.note") if "note" in fields else None
    return PolicyRule(
        index=i,
        match=tuple(match),
        allowance=allowance,
        auto_escalate=auto,
        line=node.start_mark.line + 1,
        note=note,
    )


def _dead_rule_warnings(source: str, rules: tuple[PolicyRule, ...]) -> tuple[str, ...]:
    """Rules that never win for any case: almost always a rule listed after an equal one."""
    domains: list[tuple[str | None, ...]] = []
    for key, allowed in MATCH_KEYS.items():
        used = {v for r in rules for k, v in r.match if k == key}
        if key in ("tier", "mode"):  # always given, always one of the allowed values
            domains.append(tuple(allowed or ()))
        else:  # the values rules name, plus "anything else / not known" (None)
            domains.append((*sorted(used), None))
    size = 1
    for d in domains:
        size *= len(d)
    if size > _DEAD_RULE_CHECK_LIMIT:
        return ()
    ordered = sorted(rules, key=lambda r: -r.specificity)
    keys = tuple(MATCH_KEYS)
    winners: set[int] = set()
    beaten_by: dict[int, set[int]] = {}
    for combo in itertools.product(*domains):
        case = dict(zip(keys, combo, strict=True))
        winner: PolicyRule | None = None
        for r in ordered:
            if r.matches(case):
                if winner is None:
                    winner = r
                    winners.add(r.index)
                else:
                    beaten_by.setdefault(r.index, set()).add(winner.index)
    out = []
    for r in rules:
        if r.index in winners:
            continue
        beaters = [rules[i] for i in sorted(beaten_by.get(r.index, ()))]
        ties = [w for w in beaters if w.specificity == r.specificity]
        if ties:
            w = ties[0]
            why = (
                f"rules[{w.index}] (line {w.line}) is as specific and listed earlier, "
                "so it wins every tie; list this rule before it or make it more specific"
            )
        elif beaters:
            w = beaters[0]
            why = (
                f"more specific rules always win (e.g. rules[{w.index}] at line {w.line}); "
                "make it more specific or remove it"
            )
        else:
            why = "it matches no case; remove it"
        out.append(f"{source}:{r.line}: rules[{r.index}] never applies: {why}")
    return tuple(out)


def load_policy(path: str | Path) -> PolicyPack:
    """Load a policy pack from a YAML file (name defaults to the file name without .yaml)."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PolicyError(str(p), None, None, f"cannot read policy file: {exc}") from exc
    return load_policy_text(text, str(p), name=p.stem)


def list_builtin_policies() -> list[str]:
    """Names of the packs shipped in backend/deadlines/policies (calendar files excluded)."""
    return sorted(p.stem for p in _POLICY_DIR.glob("*.yaml") if not p.name.startswith("calendar_"))


@cache
def builtin_policy(name: str) -> PolicyPack:
    """A shipped pack by name: "default" or "13710" (loaded once, shared)."""
    if name not in list_builtin_policies():
        raise KeyError(
            f"no built-in policy {name!r} (available: {', '.join(list_builtin_policies())})"
        )
    return load_policy(_POLICY_DIR / f"{name}.yaml")


def policy_from_setting(setting: str | None) -> PolicyPack:
    """Resolve ``GRIDWATCH_POLICY``: unset → default pack, a built-in name, or a file path."""
    if not setting:
        return builtin_policy("default")
    if setting in list_builtin_policies() and not Path(setting).exists():
        return builtin_policy(setting)
    return load_policy(setting)
