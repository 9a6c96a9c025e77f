"""An evaluation against an earlier one: what moved, overall and question by question.

Calibrating a setting means running `newsbot eval` before and after and reading what changed;
a summary line alone hides that one question was won and another lost. `newsbot eval
--baseline earlier.json` prints both: the metrics of the `all` row that moved, and every
question whose gold rank, answer or abstention differs.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from retrieval.evaluate import COLUMNS, EvalReport

__all__ = ["Comparison", "QuestionChange", "compare", "format_comparison", "load_baseline"]

# The per-question fields compared, with the words the report uses for them.
_FIELDS = {
    "gold_rank": "gold rank",
    "answer_in_passages": "answer in passages",
    "correct": "answer correct",
    "abstained": "abstained",
    "fact_rank": "evidence rank",
}
# Summary metrics compared: the report's columns but the count and latency (which moves on
# every run and is reported apart).
_METRICS = [(key, label) for key, label, _ in COLUMNS if key != "n" and not key.startswith("latency")]


@dataclass(slots=True)
class QuestionChange:
    id: str
    question: str
    #: field -> (baseline value, current value), only the fields that differ.
    changed: dict[str, tuple[Any, Any]]


@dataclass(slots=True)
class Comparison:
    baseline: str
    #: label -> (baseline, current) for the `all` row's metrics that differ.
    metrics: dict[str, tuple[float, float]]
    latency_p50_ms: tuple[float | None, float | None]
    changes: list[QuestionChange] = field(default_factory=list)
    #: Questions in only one of the two runs (another question file, or an edited one).
    only_baseline: int = 0
    only_current: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def load_baseline(path: Path) -> dict[str, Any]:
    """An earlier `newsbot eval --out` file; ValueError naming what is wrong with it."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ValueError(f"{path}: cannot read the baseline ({exc.strerror or exc})") from exc
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: the baseline is not JSON (line {exc.lineno}: {exc.msg})") from exc
    if (
        not isinstance(data, dict)
        or not isinstance(data.get("summary"), dict)
        or not isinstance(data["summary"].get("all"), dict)
        or not isinstance(data.get("results"), list)
        or not all(isinstance(r, dict) and isinstance(r.get("id"), str) for r in data["results"])
    ):
        raise ValueError(f"{path}: not a `newsbot eval` results file (expected summary.all and results with ids)")
    return data


def compare(report: EvalReport, baseline: dict[str, Any], *, baseline_path: str = "") -> Comparison:
    """What differs between `baseline` (a loaded results file) and `report`."""
    before_all, now_all = baseline["summary"]["all"], report.summary.get("all", {})
    metrics: dict[str, tuple[float, float]] = {}
    for key, label in _METRICS:
        before, now = before_all.get(key), now_all.get(key)
        if isinstance(before, (int, float)) and isinstance(now, (int, float)) and round(before, 3) != round(now, 3):
            metrics[label] = (before, now)
    earlier = {r["id"]: r for r in baseline["results"]}
    changes: list[QuestionChange] = []
    for result in report.results:
        old = earlier.get(result.id)
        if old is None:
            continue
        diff = {
            name: (old.get(name), getattr(result, name))
            for name in _FIELDS
            if name in old and old.get(name) != getattr(result, name)
        }
        if diff:
            changes.append(QuestionChange(result.id, result.question, diff))
    current_ids = {r.id for r in report.results}
    return Comparison(
        baseline=baseline_path,
        metrics=metrics,
        latency_p50_ms=(before_all.get("latency_p50_ms"), now_all.get("latency_p50_ms")),
        changes=changes,
        only_baseline=len(set(earlier) - current_ids),
        only_current=len(current_ids - set(earlier)),
    )


def format_comparison(comparison: Comparison) -> str:
    """The moved metrics on one line, then one line per changed question."""
    name = comparison.baseline or "the baseline"
    if comparison.metrics:
        moved = ", ".join(f"{label} {a:.3f} -> {b:.3f} ({b - a:+.3f})" for label, (a, b) in comparison.metrics.items())
    else:
        moved = "no metric of the `all` row moved"
    lines = [f"against {name}: {moved}"]
    before_ms, now_ms = comparison.latency_p50_ms
    if before_ms is not None and now_ms is not None:
        lines.append(f"latency p50 {before_ms:.1f} -> {now_ms:.1f} ms")
    lines.append(f"{len(comparison.changes)} question(s) changed" + (":" if comparison.changes else ""))
    for change in comparison.changes:
        parts = "; ".join(f"{_FIELDS[k]} {_show(a)} -> {_show(b)}" for k, (a, b) in change.changed.items())
        lines.append(f"  {change.id}: {parts} | {change.question[:80]}")
    if comparison.only_baseline or comparison.only_current:
        lines.append(
            f"not compared: {comparison.only_baseline} question(s) only in the baseline, {comparison.only_current} only in this run"
        )
    return "\n".join(lines)


def _show(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)
