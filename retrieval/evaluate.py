"""`newsbot eval`: retrieval and answer quality of the current index on a question file.

Two formats are read:

- NewsBot's (`../shared/eval/`): one JSON object a line with `question`, `answers` (strings
  that occur verbatim in a gold article), `gold` (article ids of the source collection),
  `type` (`single`, `multi`, `none`) and optionally `asked_on` (the reference date for "this
  week"). Our article ids differ from the collection's, so a gold id matches a retrieved article
  by the collection id kept in its metadata (`metadata["id"]`), by url, or through the
  duplicate copies folded into it.
- MultiHop-RAG's (`query`, `answer`, `question_type`, `evidence_list` of `{fact, title, url,
  source, published_at}`; a JSON list or JSON lines), scored as that benchmark scores retrieval:
  a passage hits when an evidence fact, with spaces and newlines removed, is a substring of it
  (spaces and newlines removed too); `null_query` questions are left out of retrieval metrics.

Per type and overall: article Hits@1/5/10 and MRR@10, every-gold@10 for multi-article
questions, answer-string recall@10, answer accuracy, abstention precision and recall, and
`ask` latency p50/p95. Beside answer recall, the share of questions whose answer string occurs
in a gold article's body at all (`answer_in_gold`): the most answer recall can reach from the
gold articles, as a question set may word its answers otherwise than the articles do.
"""

from __future__ import annotations

import json
import re
import statistics
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from index.models import canonical_url

__all__ = ["EvalQuestion", "EvalReport", "answer_matches", "calibrate", "evaluate", "format_report", "load_questions"]

#: Types whose questions have no answer in the archive.
NONE_TYPES = frozenset({"none", "null_query"})


@dataclass(slots=True)
class EvalQuestion:
    """One question of an evaluation file, in either format."""

    id: str
    question: str
    answers: list[str]
    gold: list[str]
    type: str
    asked_on: date | None = None
    #: MultiHop-RAG evidence facts (passage-level gold) and their article urls.
    facts: list[str] = field(default_factory=list)
    gold_urls: list[str] = field(default_factory=list)

    @property
    def answerable(self) -> bool:
        return self.type not in NONE_TYPES


def load_questions(path: Path | str) -> list[EvalQuestion]:
    """Questions from a NewsBot JSONL file or a MultiHop-RAG JSON/JSONL file.

    A file that cannot be scored is refused whole, with where and why ("questions.jsonl:3:
    `asked_on` is not a day"), rather than scored without the questions it could not read.
    """
    text = Path(path).read_text(encoding="utf-8")
    stripped = text.lstrip()
    records: list[tuple[str, Any]]
    if stripped.startswith("["):
        try:
            array = json.loads(stripped)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path}: not a JSON array: {exc}") from exc
        records = [(f"{path}: record {number}", record) for number, record in enumerate(array, start=1)]
    else:
        records = []
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                records.append((f"{path}:{number}", json.loads(line)))
            except json.JSONDecodeError as exc:
                raise ValueError(f"{path}:{number}: not JSON: {exc}") from exc
    if not records:
        raise ValueError(f"{path}: no questions in the file")
    return [_question(where, record, index) for index, (where, record) in enumerate(records)]


def _question(where: str, record: Any, index: int) -> EvalQuestion:
    if not isinstance(record, dict):
        raise ValueError(f"{where}: not a JSON object")
    if "query" in record and "evidence_list" in record:
        evidence = record["evidence_list"]
        if not isinstance(record["query"], str) or not record["query"].strip():
            raise ValueError(f"{where}: `query` must be a non-empty string")
        if not isinstance(evidence, list) or not all(isinstance(e, dict) for e in evidence):
            raise ValueError(f"{where}: `evidence_list` must be a list of objects")
        return _multihop(record, index)
    if "question" not in record:
        raise ValueError(f"{where}: has neither `question` nor `query`")
    question = record["question"]
    if not isinstance(question, str) or not question.strip():
        raise ValueError(f"{where}: `question` must be a non-empty string")
    lists = {}
    for key in ("answers", "gold", "gold_urls"):
        value = record.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ValueError(f"{where}: `{key}` must be a list of strings")
        lists[key] = value
    asked = record.get("asked_on")
    try:
        asked_on = date.fromisoformat(str(asked)[:10]) if asked else None
    except ValueError:
        raise ValueError(f"{where}: `asked_on` is not a day (YYYY-MM-DD): {asked!r}") from None
    return EvalQuestion(
        id=str(record.get("id", index)),
        question=question,
        answers=lists["answers"],
        gold=lists["gold"],
        type=str(record.get("type", "single")),
        asked_on=asked_on,
        gold_urls=lists["gold_urls"],
    )


def _multihop(record: dict[str, Any], index: int) -> EvalQuestion:
    evidence = record.get("evidence_list") or []
    answer = str(record.get("answer", "")).strip()
    kind = str(record.get("question_type", "multihop"))
    none = kind in NONE_TYPES
    return EvalQuestion(
        id=str(record.get("id", index)),
        question=record["query"],
        answers=[] if none or not answer else [answer],
        gold=[],
        type=kind,
        facts=[str(e.get("fact", "")) for e in evidence if e.get("fact")],
        gold_urls=list(dict.fromkeys(str(e["url"]) for e in evidence if e.get("url"))),
    )


_SHORT_NUMBER = re.compile(r"^[\d.,]{1,4}$")


def answer_matches(answer: str, text: str) -> bool:
    """Case-insensitive containment; short numbers ("11") only as whole tokens."""
    needle = _normalize(answer)
    haystack = _normalize(text)
    if not needle:
        return False
    if _SHORT_NUMBER.match(needle):
        return re.search(rf"(?<![\w.,]){re.escape(needle)}(?![\w]|[.,]\d)", haystack) is not None
    return needle in haystack


def _normalize(text: str) -> str:
    text = text.casefold().replace("’", "'").replace("‘", "'").replace("“", '"').replace("”", '"').replace("–", "-").replace("—", "-")
    return " ".join(text.split())


def _squash(text: str) -> str:
    return text.replace(" ", "").replace("\n", "")


class _GoldMatcher:
    """Which collection ids and urls a retrieved article stands for (itself and its copies)."""

    def __init__(self, reader: Any) -> None:
        self.reader = reader
        self._cache: dict[str, set[str]] = {}
        self._stored: dict[str, list[str]] | None = None

    def identities(self, article_id: str) -> set[str]:
        if article_id in self._cache:
            return self._cache[article_id]
        ids = {article_id}
        article = self.reader.article(article_id)
        if article is not None:
            ids |= _record_ids(article.metadata, article.url)
            for copy in article.copies:
                ids.add(str(copy.get("article_id")))
                ids |= _record_ids(copy.get("metadata") or {}, copy.get("url"))
        self._cache[article_id] = ids
        return ids

    def matches(self, article_id: str, question: EvalQuestion) -> bool:
        ids = self.identities(article_id)
        return any(g in ids for g in question.gold) or any(_url_key(u) in ids for u in question.gold_urls)

    def gold_articles(self, question: EvalQuestion) -> list[Any]:
        """The stored articles that stand for the question's gold ids and urls (a copy: the article it was folded into)."""
        if self._stored is None:
            # Built once, on the first question that needs it: one pass over the archive.
            self._stored = {}
            for article_id in self.reader.article_ids():
                for identity in self.identities(article_id):
                    self._stored.setdefault(identity, []).append(article_id)
        keys = [*question.gold, *(_url_key(u) for u in question.gold_urls)]
        article_ids = dict.fromkeys(a for key in keys for a in self._stored.get(key, []))
        return [article for a in article_ids if (article := self.reader.article(a)) is not None]


def _record_ids(metadata: dict[str, Any], url: str | None) -> set[str]:
    out = set()
    if metadata.get("id") is not None:
        out.add(str(metadata["id"]))
    if url:
        out.add(_url_key(url))
    return out


def _url_key(url: str) -> str:
    return "url:" + canonical_url(url)


@dataclass(slots=True)
class QuestionResult:
    id: str
    type: str
    question: str
    answerable: bool
    gold_rank: int | None
    gold_found: int
    gold_total: int
    answer_in_passages: bool
    #: An answer string occurs in the body of a gold article (None: no answers or no gold).
    answer_in_gold: bool | None
    abstained: bool
    correct: bool
    confidence: float
    latency_ms: float
    answer: str
    retrieved: list[str]
    #: MultiHop-RAG scoring (None for other formats).
    fact_rank: int | None = None
    fact_ap: float | None = None


@dataclass(slots=True)
class EvalReport:
    """Results per question and the summary per type (and `all`)."""

    path: str
    k: int
    summary: dict[str, dict[str, float | int | None]]
    results: list[QuestionResult]
    calibration: dict[str, Any] | None = None
    #: Against an earlier run (`retrieval.eval_compare`), when one was given.
    comparison: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        out = {
            "path": self.path,
            "k": self.k,
            "summary": self.summary,
            "calibration": self.calibration,
            "results": [asdict(r) for r in self.results],
        }
        if self.comparison is not None:
            out["comparison"] = self.comparison
        return out


def evaluate(
    retriever: Any,
    questions: Sequence[EvalQuestion],
    *,
    k: int = 10,
    path: str = "",
    progress: Callable[[int, int], None] | None = None,
    retrieve_options: dict[str, Any] | None = None,
) -> EvalReport:
    """Run every question through `retrieve` (top `k`) and `ask`, and score both."""
    from retrieval.answer import assess

    matcher = _GoldMatcher(retriever.reader)
    results = []
    for number, q in enumerate(questions, start=1):
        retrieval = retriever.retrieve(q.question, top_k=k, as_of=q.asked_on, **(retrieve_options or {}))
        hits = retrieval.hits[:k]
        retrieved = [h.article_id for h in hits]
        gold_rank = None
        found: set[str] = set()
        if q.gold or q.gold_urls:
            for rank, hit in enumerate(hits, start=1):
                ids = matcher.identities(hit.article_id)
                matched = {g for g in q.gold if g in ids} | {u for u in q.gold_urls if _url_key(u) in ids}
                if matched and gold_rank is None:
                    gold_rank = rank
                found |= matched
        gold_total = len(q.gold) or len(q.gold_urls)
        fact_rank = fact_ap = None
        if q.facts and q.answerable:
            fact_rank, fact_ap = _multihop_scores([h.text for h in hits], q.facts)
        answer_in_passages = any(answer_matches(a, h.text) for a in q.answers for h in hits)
        answer_in_gold = None
        if q.answers and (q.gold or q.gold_urls):
            bodies = [article.body for article in matcher.gold_articles(q)]
            answer_in_gold = any(answer_matches(a, body) for a in q.answers for body in bodies)

        started = time.perf_counter()
        answer = retriever.ask(q.question, as_of=q.asked_on)
        latency = (time.perf_counter() - started) * 1000
        confidence = assess(retrieval_for_answer(retriever, q, retrieve_options), retriever=retriever).confidence
        shown = " ".join([answer.answer] + [c.quote for c in answer.citations])
        correct = (not answer.abstained) and any(answer_matches(a, shown) for a in q.answers)
        results.append(
            QuestionResult(
                id=q.id,
                type=q.type,
                question=q.question,
                answerable=q.answerable,
                gold_rank=gold_rank,
                gold_found=len(found),
                gold_total=gold_total,
                answer_in_passages=answer_in_passages,
                answer_in_gold=answer_in_gold,
                abstained=answer.abstained,
                correct=correct,
                confidence=round(confidence, 4),
                latency_ms=round(latency, 2),
                answer=answer.answer,
                retrieved=retrieved,
                fact_rank=fact_rank,
                fact_ap=fact_ap,
            )
        )
        if progress:
            progress(number, len(questions))
    summary = {"all": _summarize(results)}
    for kind in dict.fromkeys(r.type for r in results):
        summary[kind] = _summarize([r for r in results if r.type == kind])
    return EvalReport(path=path, k=k, summary=summary, results=results)


def retrieval_for_answer(retriever: Any, q: EvalQuestion, options: dict[str, Any] | None) -> Any:
    """The retrieval `ask` answers from (default top_k), for the confidence it saw."""
    options = {"max_per_article": retriever.settings.answer_max_per_article, **(options or {})}
    return retriever.retrieve(q.question, as_of=q.asked_on, **options)


def _multihop_scores(passages: list[str], facts: list[str]) -> tuple[int | None, float]:
    """First relevant rank and average precision@10, as MultiHop-RAG's retrieval_evaluate.py."""
    gold = [_squash(f) for f in facts]
    retrieved = [_squash(p) for p in passages]
    first = None
    found: list[str] = []
    ap_sum = 0.0
    for rank, item in enumerate(retrieved[:10], start=1):
        if any(g in item for g in gold):
            if first is None:
                first = rank
            count = 0
            for g in gold:
                if g in item and g not in found:
                    count += 1
                    found.append(g)
            ap_sum += count / rank
    return first, ap_sum / min(len(gold), 10)


def _summarize(results: list[QuestionResult]) -> dict[str, float | int | None]:
    def share(values: Iterable[bool]) -> float | None:
        values = list(values)
        return round(sum(values) / len(values), 4) if values else None

    with_gold = [r for r in results if r.gold_total and r.answerable]
    answerable = [r for r in results if r.answerable]
    with_answers = [r for r in answerable if r.answer]  # every answerable result has some answer text
    multi = [r for r in with_gold if r.gold_total > 1]
    none = [r for r in results if not r.answerable]
    abstained = [r for r in results if r.abstained]
    latencies = sorted(r.latency_ms for r in results)
    facts = [r for r in results if r.answerable and r.fact_ap is not None]
    out: dict[str, float | int | None] = {
        "n": len(results),
        "hits@1": share(r.gold_rank is not None and r.gold_rank <= 1 for r in with_gold),
        "hits@5": share(r.gold_rank is not None and r.gold_rank <= 5 for r in with_gold),
        "hits@10": share(r.gold_rank is not None and r.gold_rank <= 10 for r in with_gold),
        "mrr@10": round(sum(1 / r.gold_rank for r in with_gold if r.gold_rank) / len(with_gold), 4) if with_gold else None,
        "all_gold@10": share(r.gold_found >= r.gold_total for r in multi),
        "answer_recall@10": share(r.answer_in_passages for r in answerable if _has_answers(r)),
        "answer_in_gold": share(r.answer_in_gold for r in answerable if r.answer_in_gold is not None),
        "answer_accuracy": share(r.correct for r in answerable if _has_answers(r)),
        "answered": share(not r.abstained for r in with_answers),
        "abstain_precision": share(not r.answerable for r in abstained) if none else None,
        "abstain_recall": share(r.abstained for r in none),
        "latency_p50_ms": round(statistics.median(latencies), 1) if latencies else None,
        "latency_p95_ms": round(latencies[min(len(latencies) - 1, int(0.95 * len(latencies)))], 1) if latencies else None,
    }
    if facts:
        out["mh_hits@4"] = share(r.fact_rank is not None and r.fact_rank <= 4 for r in facts)
        out["mh_hits@10"] = share(r.fact_rank is not None for r in facts)
        out["mh_map@10"] = round(sum(r.fact_ap or 0.0 for r in facts) / len(facts), 4)
        out["mh_mrr@10"] = round(sum(1 / r.fact_rank for r in facts if r.fact_rank) / len(facts), 4)
    return out


def _has_answers(result: QuestionResult) -> bool:
    return result.answerable


def calibrate(results: Sequence[QuestionResult], *, min_answered: float = 0.95) -> dict[str, Any]:
    """The abstention threshold that best separates answerable from unanswerable questions.

    Among thresholds that keep at least `min_answered` of the answerable questions answered,
    the one with the best abstention F1 on the `none` questions; the threshold sits midway
    between the two confidences it separates, so it does not hug one question.
    """
    answerable = sorted(r.confidence for r in results if r.answerable)
    none = sorted(r.confidence for r in results if not r.answerable)
    values = sorted(set(answerable) | set(none))
    cuts = [values[0] - 0.01] + [(a + b) / 2 for a, b in zip(values, values[1:])] + [values[-1] + 0.01] if values else []
    best: dict[str, Any] | None = None
    curve = []
    for t in cuts:
        answered = sum(c >= t for c in answerable) / len(answerable) if answerable else 1.0
        abstained_none = sum(c < t for c in none)
        abstained_all = abstained_none + sum(c < t for c in answerable)
        precision = abstained_none / abstained_all if abstained_all else 1.0
        recall = abstained_none / len(none) if none else 1.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        point = {"threshold": round(t, 4), "answered": round(answered, 4), "abstain_precision": round(precision, 4), "abstain_recall": round(recall, 4), "f1": round(f1, 4)}
        curve.append(point)
        # Ties keep the lowest threshold: the first cut reached, so the least abstention.
        if answered >= min_answered and (best is None or f1 > best["f1"]):
            best = point
    return {"best": best, "curve": curve, "answerable": len(answerable), "none": len(none)}


#: The report's columns: summary key, table header, format (also what `--baseline` compares).
COLUMNS = [
    ("n", "n", "{:d}"),
    ("hits@1", "H@1", "{:.3f}"),
    ("hits@5", "H@5", "{:.3f}"),
    ("hits@10", "H@10", "{:.3f}"),
    ("mrr@10", "MRR@10", "{:.3f}"),
    ("all_gold@10", "AllGold@10", "{:.3f}"),
    ("answer_recall@10", "AnsRec@10", "{:.3f}"),
    ("answer_in_gold", "AnsInGold", "{:.3f}"),
    ("answer_accuracy", "AnsAcc", "{:.3f}"),
    ("answered", "Answered", "{:.3f}"),
    ("abstain_precision", "AbstP", "{:.3f}"),
    ("abstain_recall", "AbstR", "{:.3f}"),
    ("latency_p50_ms", "p50ms", "{:.1f}"),
    ("latency_p95_ms", "p95ms", "{:.1f}"),
    ("mh_hits@4", "MH-H@4", "{:.3f}"),
    ("mh_hits@10", "MH-H@10", "{:.3f}"),
    ("mh_map@10", "MH-MAP@10", "{:.3f}"),
    ("mh_mrr@10", "MH-MRR@10", "{:.3f}"),
]


def format_report(report: EvalReport) -> str:
    """A plain-text table: one row per type, `all` first; `-` where a metric does not apply."""
    columns = [c for c in COLUMNS if any(row.get(c[0]) is not None for row in report.summary.values())]
    header = ["type"] + [c[1] for c in columns]
    rows = [header]
    for kind, row in report.summary.items():
        rows.append([kind] + [fmt.format(row[key]) if row.get(key) is not None else "-" for key, _, fmt in columns])
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    lines = ["  ".join(cell.rjust(w) if i else cell.ljust(w) for i, (cell, w) in enumerate(zip(r, widths))) for r in rows]
    return "\n".join(lines)
