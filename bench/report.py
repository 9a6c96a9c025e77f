"""Markdown tables of the ingest and query benchmark results, for docs/benchmarks.md.

    .venv/bin/python bench/report.py                 # reads bench/results/ingest.json and query.json
    .venv/bin/python bench/report.py --ingest other.json --query other.json
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"


def _table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join("---" if i == 0 else "---:" for i in range(len(header))) + " |"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def ingest_tables(report: dict[str, Any]) -> str:
    rows = []
    for c in report["corpora"]:
        t = c["build_timings"]
        rows.append([
            c["corpus"], f"{c['articles']:,}", f"{c['chunks']:,}",
            f"{c['build']['wall_s']:.1f} s", f"{c['rates']['build_articles_per_s']:.1f}", f"{c['rates']['build_chunks_per_s']:.1f}",
            f"{t.get('ingest', 0):.1f} / {t.get('embed', 0):.1f} / {t.get('vectors', 0):.1f}",
            f"{c['raw_encode']['wall_s']:.1f} s", f"{c['rates']['raw_encode_chunks_per_s']:.1f}",
            f"x{c['ratios']['overhead_wall']:.3f} (cpu x{c['ratios']['overhead_cpu']:.3f})",
            f"{c['unchanged_rebuild']['wall_s']:.2f} s ({100 * c['ratios']['unchanged_rebuild_share']:.1f}%)",
            f"{c['unchanged_add']['wall_s']:.2f} s ({100 * c['ratios']['unchanged_add_share']:.1f}%)",
            f"{c['build']['rss_peak_mib']:.0f} (+{c['build']['rss_peak_mib'] - c['build']['rss_start_mib']:.0f})",
            f"{c['build']['loadavg_1m_start']:.1f}-{c['unchanged_add']['loadavg_1m_end']:.1f}",
        ])
    header = ["corpus", "articles", "chunks", "full build", "articles/s", "chunks/s", "ingest / embed / vectors s",
              "raw encode", "raw chunks/s", "build / raw", "unchanged rebuild", "unchanged add", "peak RSS MiB (+build)", "load"]
    return _table(header, rows)


def query_tables(report: dict[str, Any]) -> str:
    parts = []
    rows = []
    for corpus in report["corpora"]:
        for c in corpus["cells"]:
            rows.append([
                corpus["corpus"], c["surface"], c["op"], str(c["concurrency"]), str(c["requests"]),
                f"{c['p50_ms']:.1f}", f"{c['p95_ms']:.1f}", f"{c['p99_ms']:.1f}",
                f"{c['cpu_p50_ms']:.1f}" if c["cpu_p50_ms"] is not None else "-", f"{c['throughput_rps']:.1f}", str(c["errors"]),
                f"{c['loadavg_1m']:.1f}",
            ])
    parts.append(_table(["corpus", "surface", "op", "conc.", "requests", "p50 ms", "p95 ms", "p99 ms", "CPU p50 ms", "req/s", "errors", "load"], rows))
    rows = []
    for corpus in report["corpora"]:
        for key, r in corpus.get("latency_ratios", {}).items():
            rows.append([corpus["corpus"], key, f"x{r['p50_ratio']:.2f}", f"x{r['p99_ratio']:.2f}", f"x{r['speedup_p50']:.2f}",
                         f"x{r['cpu_p50_ratio']:.2f}" if "cpu_p50_ratio" in r else "-"])
    if rows:
        parts.append(_table(["corpus", "ours (surface:op@concurrency)", "p50 ours/baseline", "p99 ours/baseline", "speed-up (baseline/ours p50)", "CPU p50 ours/baseline"], rows))
    rows = []
    for corpus in report["corpora"]:
        q = corpus.get("quality")
        if not q:
            continue
        rows.append([corpus["corpus"], str(q["questions"]), f"{q['ours']['hits@10']:.3f}", f"{q['baseline']['hits@10']:.3f}",
                     f"x{q['ratios']['hits@10']}", f"{q['ours']['mrr@10']:.3f}", f"{q['baseline']['mrr@10']:.3f}", f"x{q['ratios']['mrr@10']}",
                     f"{q['ours_without_asked_on']['hits@10']:.3f} / {q['ours_without_asked_on']['mrr@10']:.3f}" if "ours_without_asked_on" in q else "-"])
    if rows:
        parts.append(_table(["corpus", "questions", "Hits@10 ours", "Hits@10 baseline", "ratio", "MRR@10 ours", "MRR@10 baseline", "ratio",
                             "ours without the quiz date (Hits / MRR)"], rows))
    rows = []
    for corpus in report["corpora"]:
        o, b = corpus["ours_index"], corpus.get("baseline_index", {})
        rows.append([corpus["corpus"], f"{o['articles']:,}", f"{o['chunks']:,}", f"{o['duplicates']}", f"{b.get('chunks', 0):,}",
                     f"{b.get('build_s', '-')} s" if b else "-", str(corpus.get("server_peak_rss_mib", "-"))])
    parts.append(_table(["corpus", "articles", "our chunks (200 tokens)", "duplicates folded", "baseline chunks (1,000 chars)", "baseline build", "server peak RSS MiB"], rows))
    return "\n\n".join(parts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ingest", type=Path, default=RESULTS / "ingest.json")
    parser.add_argument("--query", type=Path, default=RESULTS / "query.json")
    args = parser.parse_args(argv)
    found = False
    for path, render in ((args.ingest, ingest_tables), (args.query, query_tables)):
        if path.exists():
            found = True
            report = json.loads(path.read_text())
            print(f"<!-- {path.name}: load {report['machine'].get('loadavg_at_start')} -> {report['machine'].get('loadavg_at_end')} -->\n")
            print(render(report) + "\n")
    if not found:
        print("no results yet: run bench/ingest.py and bench/query.py", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
