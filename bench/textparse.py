"""Precision and recall of the hotline / WeChat text parser (backend/intake/textparse.py) on
the hand-labelled sample bench/data/textparse_sample.yaml, beside trivial baselines.

    python -m bench.textparse [--split dev|test|all]

Category: precision = right ÷ categories given; recall = right ÷ messages. A message the
parser sends to a person (triage) counts against recall, not precision: that is the point
of not guessing. Routing: the grid (precision ÷ grids given, recall ÷ messages whose grid
the text and group determine) and the area (the most specific place named: grid, community
or township). Baselines, in the same run:
- most frequent category (of the dev split), always;
- first match of the whistle list's own keywords (backend/refdata/catalogue.py), in order;
- routing: the WeChat group's grid if any, else the first grid of the first place name found.
"""

from __future__ import annotations

import argparse
import json
import time
from collections import Counter
from pathlib import Path
from typing import Any

import yaml

from backend.intake.textparse import TextParser
from backend.refdata import catalogue
from backend.refdata.index import RefIndex
from bench.common import fresh_system, machine

SAMPLE = Path(__file__).parent / "data" / "textparse_sample.yaml"


def load(split: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    data = yaml.safe_load(SAMPLE.read_text(encoding="utf-8"))
    chosen = data["dev"] + data["test"] if split == "all" else data[split]
    return chosen, data["dev"]


def codes_by_name(ref: RefIndex) -> dict[str, str]:
    return {name: code for code, name in ref.area_names.items()}


def prf(tp: int, given: int, total: int) -> dict[str, float | None]:
    return {
        "precision": round(tp / given, 3) if given else None,
        "recall": round(tp / total, 3) if total else None,
    }


def per_category(truth: list[str], pred: list[str | None]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for cat in sorted(set(truth)):
        tp = sum(1 for t, p in zip(truth, pred, strict=True) if p == cat and t == cat)
        given = sum(1 for p in pred if p == cat)
        total = sum(1 for t in truth if t == cat)
        out[cat] = {**prf(tp, given, total), "n": total}
    return out


def summary(truth: list[str], pred: list[str | None]) -> dict[str, Any]:
    given = [p for p in pred if p is not None]
    right = sum(1 for t, p in zip(truth, pred, strict=True) if p == t)
    cats = per_category(truth, pred)
    precisions = [v["precision"] for v in cats.values() if v["precision"] is not None]
    recalls = [v["recall"] for v in cats.values()]
    return {
        **prf(right, len(given), len(truth)),
        "coverage": round(len(given) / len(truth), 3),
        "macro_precision": round(sum(precisions) / len(precisions), 3) if precisions else None,
        "macro_recall": round(sum(recalls) / len(recalls), 3),
    }


def first_keyword(text: str) -> str | None:
    for row in catalogue.CATEGORIES:
        code, keywords = row[0], row[-1]
        if any(k in text for k in keywords):
            return code
    return None


def baseline_route(ref: RefIndex, text: str, group: str | None) -> str | None:
    if group:
        return group
    for level in ("grid", "community", "township"):
        for code, name in ref.area_names.items():
            if ref.area_levels[code] == level and name in text:
                return code if level == "grid" else ref.grids_by_area[code][0]
    return None


def evaluate(split: str) -> dict[str, Any]:
    system = fresh_system("sqlite")
    ref = system.ref
    parser = TextParser.from_ref(ref)
    threshold = system.settings.text_confidence
    by_name = codes_by_name(ref)
    sample, dev = load(split)
    frequent = Counter(m["c"] for m in dev).most_common(1)[0][0]
    truth, ours, kw, freq = [], [], [], []
    grid_truth, grid_pred, grid_base = [], [], []
    area_truth, area_pred = [], []
    sev_truth, sev_pred = [], []
    auto = 0
    started = time.perf_counter()
    for m in sample:
        group = by_name[m["g"]] if m.get("g") else None
        p = parser.parse(m["t"], group)
        reason = p.triage_reason(threshold)
        decided = reason is None or not reason.startswith("category")
        truth.append(m["c"])
        ours.append(p.category if decided else None)
        kw.append(first_keyword(m["t"]))
        freq.append(frequent)
        auto += reason is None and p.grid is not None
        area = by_name[m["area"]] if m.get("area") else None
        label_grid = area if area in ref.grids else None
        grid_truth.append(label_grid)
        grid_pred.append(p.grid)
        grid_base.append(baseline_route(ref, m["t"], group))
        area_truth.append(area)
        area_pred.append(p.place_code)
        sev_truth.append(m.get("sev", "general"))
        sev_pred.append(p.severity)
    elapsed = time.perf_counter() - started

    def routing(pred: list[str | None], truth_: list[str | None]) -> dict[str, Any]:
        given = sum(1 for p in pred if p is not None)
        labelled = sum(1 for t in truth_ if t is not None)
        right = sum(1 for p, t in zip(pred, truth_, strict=True) if p is not None and p == t)
        return prf(right, given, labelled) | {"given": given, "labelled": labelled}

    urgent_tp = sum(1 for t, p in zip(sev_truth, sev_pred, strict=True) if t == p == "urgent")
    result = {
        "bench": "textparse",
        "split": split,
        "messages": len(sample),
        "machine": machine(),
        "threshold": threshold,
        "category": summary(truth, ours),
        "baseline_keyword_first_match": summary(truth, kw),
        "baseline_most_frequent": summary(truth, freq) | {"category": frequent},
        "grid": routing(grid_pred, grid_truth),
        "baseline_grid": routing(grid_base, grid_truth),
        "area": routing(area_pred, area_truth),
        "urgent": prf(urgent_tp, sev_pred.count("urgent"), sev_truth.count("urgent")),
        "opened_and_routed_without_a_person": round(auto / len(sample), 3),
        "messages_per_second": round(len(sample) / elapsed),
        "per_category": per_category(truth, ours),
    }
    system.db.dispose()
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--split", choices=("dev", "test", "all"), default="test")
    args = ap.parse_args()
    print(json.dumps(evaluate(args.split), ensure_ascii=False))


if __name__ == "__main__":
    main()
