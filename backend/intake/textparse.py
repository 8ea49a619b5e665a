"""Hotline (12345) orders and WeChat group messages as Chinese free text → category, place
and urgency, by rules over word lists kept as data (``data/*.yaml``) and the city's own place
names (reference data). Every answer carries how sure it is; the intake sends what is not
sure to a person (the triage queue, or "awaiting dispatch" when only the grid is unknown)
instead of guessing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from backend.refdata.index import RefIndex

DATA = Path(__file__).parent / "data"
#: a category needs at least this much evidence (one strong word, or two weak ones)
MIN_SCORE = 2.0

_CN_DIGITS = {
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_GRID_NO = re.compile(r"第?([0-9]{1,2}|[一二两三四五六七八九十]{1,3})(?:号)?网格")
_ADDRESS = re.compile(
    r"[\u4e00-\u9fa5A-Za-z0-9]{2,8}?(?:路|街|大道|巷|弄)(?:[0-9]+号)?"
    r"|[\u4e00-\u9fa5A-Za-z0-9]{2,6}?(?:小区|花园|公寓|大厦|广场|市场|学校|医院|公园|新村|家园|苑)"
)
_LEADING = ("我家住在", "我住在", "住在", "位于", "我们", "我家", "反映", "在", "的", "是", "到")


def _cn_number(text: str) -> int | None:
    if text.isdigit():
        return int(text)
    if text == "十":
        return 10
    if text.startswith("十"):
        return 10 + _CN_DIGITS.get(text[1:], 0)
    if "十" in text:
        tens, _, ones = text.partition("十")
        return _CN_DIGITS.get(tens, 0) * 10 + (_CN_DIGITS.get(ones, 0) if ones else 0)
    return _CN_DIGITS.get(text)


@dataclass(frozen=True, slots=True)
class Place:
    code: str
    level: str  # township | community | grid
    name: str


@dataclass
class Parsed:
    category: str | None
    confidence: float
    candidates: list[tuple[str, float]]
    words: list[str]
    grid: str | None
    address: str | None
    place_level: str | None  # grid | community | township | group | address | None
    place_note: str | None
    place_code: str | None  # the most specific area the text names (or the group's grid)
    severity: str
    urgency_words: list[str] = field(default_factory=list)

    def triage_reason(self, threshold: float) -> str | None:
        """Why a person must decide, or None when the case can be opened as parsed."""
        if self.category is None or self.confidence < threshold:
            top = ", ".join(f"{c} ({s:g})" for c, s in self.candidates[:3]) or "none"
            return f"category uncertain; candidates: {top}"
        if self.grid is None and self.address is None:
            return "no place named"
        return None

    def as_json(self) -> dict[str, Any]:
        return {
            "category": self.category,
            "confidence": round(self.confidence, 3),
            "candidates": [[c, s] for c, s in self.candidates[:3]],
            "words": self.words,
            "grid": self.grid,
            "address": self.address,
            "place_level": self.place_level,
            "place_note": self.place_note,
            "place_code": self.place_code,
            "severity": self.severity,
            "urgency_words": self.urgency_words,
        }


class TextParser:
    def __init__(
        self,
        words: dict[str, dict[str, float]],
        urgency: dict[str, list[str]],
        places: list[Place],
        grids_by_area: dict[str, list[str]],
        grid_names: dict[str, str],
        parents: dict[str, str],
    ) -> None:
        # every word with the categories it points to, longest first
        index: dict[str, list[tuple[str, float]]] = {}
        for code, ws in words.items():
            for w, weight in ws.items():
                index.setdefault(str(w), []).append((code, float(weight)))
        self.vocabulary = sorted(index.items(), key=lambda kv: -len(kv[0]))
        self.urgency = urgency
        self.places = sorted(places, key=lambda p: -len(p.name))
        self.grids_by_area = grids_by_area
        self.grid_names = grid_names
        self.parents = parents  # grid → community → township

    @classmethod
    def from_ref(cls, ref: RefIndex, data_dir: Path = DATA) -> TextParser:
        # a city with its own whistle list uses the entries that apply to it
        words = {
            c: w for c, w in _load_yaml(data_dir / "categories.yaml").items() if c in ref.categories
        }
        urgency = _load_yaml(data_dir / "urgency.yaml")
        places: list[Place] = []
        parents: dict[str, str] = {}
        for code, name in ref.area_names.items():
            level = ref.area_levels[code]
            if level in ("township", "community", "grid") and name:
                places.append(Place(code, level, name))
        for g in ref.grids.values():
            parents[g.code] = g.community_code
            parents[g.community_code] = g.township_code
        return cls(
            words,
            urgency,
            places,
            ref.grids_by_area,
            {g.code: g.name for g in ref.grids.values()},
            parents,
        )

    # ------------------------------------------------------------------ parsing

    def parse(self, text: str, group_grid: str | None = None) -> Parsed:
        category, confidence, candidates, found = self._category(text)
        grid, address, level, note, code = self._place(text, group_grid)
        severity, urgent = self._urgency(text)
        return Parsed(
            category,
            confidence,
            candidates,
            found,
            grid,
            address,
            level,
            note,
            code,
            severity,
            urgent,
        )

    def _category(self, text: str) -> tuple[str | None, float, list[tuple[str, float]], list[str]]:
        taken = [False] * len(text)
        scores: dict[str, float] = {}
        found: list[str] = []
        for word, targets in self.vocabulary:
            start = text.find(word)
            while start >= 0:
                end = start + len(word)
                if not any(taken[start:end]):
                    for i in range(start, end):
                        taken[i] = True
                    found.append(word)
                    for code, weight in targets:
                        scores[code] = scores.get(code, 0.0) + weight
                start = text.find(word, end)
        ranked = sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))
        if not ranked or ranked[0][1] < MIN_SCORE:
            return None, 0.0, ranked, found
        best = ranked[0][1]
        second = ranked[1][1] if len(ranked) > 1 else 0.0
        return ranked[0][0], best / (best + second), ranked, found

    def _place(
        self, text: str, group_grid: str | None
    ) -> tuple[str | None, str | None, str | None, str | None, str | None]:
        hits: dict[str, list[Place]] = {"grid": [], "community": [], "township": []}
        rest = text
        for p in self.places:
            if p.name in rest:
                hits[p.level].append(p)
                rest = rest.replace(p.name, "\u3000" * len(p.name))
        # "新潭社区3号网格", "新潭社区第三网格": a grid of the named community
        for c in hits["community"]:
            after = text[text.find(c.name) + len(c.name) :][:8]
            m = _GRID_NO.match(after)
            if m:
                n = _cn_number(m.group(1))
                code = f"{c.code}G{n:02d}" if n else None
                if code in self.grid_names:
                    hits["grid"].append(Place(code, "grid", self.grid_names[code]))
        grids = {p.code for p in hits["grid"]}
        communities = {p.code for p in hits["community"]} | {self.parents[g] for g in grids}
        townships = {p.code for p in hits["township"]} | {self.parents[c] for c in communities}
        named = [p.name for lv in ("township", "community", "grid") for p in hits[lv]]
        address = "".join(dict.fromkeys(named)) or None
        if len(townships) > 1 or len(communities) > 1 or len(grids) > 1:
            return None, address, None, "several places named: a person decides", None
        if grids:
            g = grids.pop()
            return g, address, "grid", None, g
        if communities:
            community = next(iter(communities))
            members = self.grids_by_area.get(community, [])
            if group_grid and self.parents.get(group_grid) == community:
                return group_grid, address, "group", None, group_grid
            if len(members) == 1:
                return members[0], address, "community", None, members[0]
            note = "community named, grid not: awaiting dispatch"
            return None, address, "community", note, community
        if townships:
            t = next(iter(townships))
            if group_grid and self.parents.get(self.parents.get(group_grid, ""), "") == t:
                return group_grid, address, "group", None, group_grid
            return None, address, "township", "township named, grid not: awaiting dispatch", t
        if group_grid:
            return group_grid, None, "group", None, group_grid
        street = self._street_address(text)
        if street:
            return None, street, "address", "address not in the city's place names", None
        return None, None, None, None, None

    @staticmethod
    def _street_address(text: str) -> str | None:
        m = _ADDRESS.search(text)
        if not m:
            return None
        s = m.group(0)
        changed = True
        while changed:
            changed = False
            for lead in _LEADING:
                if s.startswith(lead) and len(s) - len(lead) >= 3:
                    s = s[len(lead) :]
                    changed = True
        return s

    def _urgency(self, text: str) -> tuple[str, list[str]]:
        urgent = [w for w in self.urgency.get("urgent", []) if w in text]
        if urgent:
            return "urgent", urgent
        major = [w for w in self.urgency.get("major", []) if w in text]
        if major:
            return "major", major
        return "general", []


def _load_yaml(path: Path) -> Any:
    with path.open(encoding="utf-8") as f:
        return yaml.safe_load(f) or {}


#: the parsers of the last few reference indexes (a process has one; a test run, many)
_PARSERS: dict[int, tuple[RefIndex, TextParser]] = {}
_KEEP = 4


def parser_for(ref: RefIndex) -> TextParser:
    """One parser per reference index (built on first use, not at import)."""
    hit = _PARSERS.get(id(ref))
    if hit is None or hit[0] is not ref:
        hit = _PARSERS[id(ref)] = (ref, TextParser.from_ref(ref))
        while len(_PARSERS) > _KEEP:
            del _PARSERS[next(iter(_PARSERS))]
    return hit[1]


__all__ = ["MIN_SCORE", "Parsed", "TextParser", "parser_for"]
