"""Ingest benchmark: full index builds against the model's own encode speed.

For the Wikinews sample and for a synthetic corpus (the sample replicated with perturbed text
to about 20,000 chunks) it measures, in one run and one process:

* a full build (`index.build.update_index`, mode "rebuild", the real model) into a fresh
  index folder, so nothing comes from the embedding cache: articles/s, chunks/s, and the
  build's own phase timings (ingest + chunk, embed, vector index);
* raw `SentenceTransformer.encode` of exactly the texts the build embedded (the "Title.
  passage" strings, read back from the built store and checked against their hashes), with
  the same batch size: build time / raw encode time is the pipeline's overhead;
* a second build with nothing changed (`rebuild`, what `newsbot index build` does), and an
  `add` of the same input (what a cron job does), each as a share of the first build;
* peak memory: resident memory sampled during each phase, and the process's maxrss.

Prints a table and writes bench/results/ingest.json.

    .venv/bin/python bench/ingest.py                              # Wikinews + ~20,000 synthetic chunks
    .venv/bin/python bench/ingest.py --synthetic-chunks 2000      # a quick run

The machine has 2 cores shared with other work: CPU seconds (all threads of this process)
are recorded beside wall seconds, and the load average beside each phase, so a ratio taken
while something else ran can be recognised.
"""

from __future__ import annotations

import argparse
import ctypes
import gc
import hashlib
import itertools
import json
import math
import os
import platform
import random
import re
import resource
import sqlite3
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run as a script from a checkout, without installing
from runinfo import git_head, write_report  # noqa: E402  (bench/ is on sys.path as the script's folder)

from index.build import BuildReport, update_index  # noqa: E402
from index.chunk import embedding_text  # noqa: E402
from index.embed import Embedder, load_embedder  # noqa: E402
from index.store import STORE_DB, current_generation, generation_path  # noqa: E402
from newsbot.settings import Settings  # noqa: E402

WIKINEWS = ROOT.parent / "shared" / "corpus" / "wikinews" / "articles.jsonl"
RESULTS = ROOT / "bench" / "results" / "ingest.json"

# Targets from the benchmarks issue.
TARGET_OVERHEAD = 1.15  # build time / raw encode time
TARGET_UNCHANGED = 0.05  # unchanged rebuild time / first build time


# --------------------------------------------------------------------------- measuring


def rss_bytes() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def maxrss_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def release_memory() -> None:
    """Collect and hand freed heap back to the OS, so a phase's peak is its own."""
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except OSError:  # not glibc: peaks are noisier, nothing else changes
        pass


@dataclass
class Phase:
    """Wall and CPU seconds, load average and resident-memory peak of one measured step."""

    wall_s: float = 0.0
    cpu_s: float = 0.0
    load_start: float = 0.0
    load_end: float = 0.0
    rss_start: int = 0
    rss_peak: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "wall_s": round(self.wall_s, 2), "cpu_s": round(self.cpu_s, 2),
            "loadavg_1m_start": round(self.load_start, 2), "loadavg_1m_end": round(self.load_end, 2),
            "rss_start_mib": round(self.rss_start / 2**20, 1), "rss_peak_mib": round(self.rss_peak / 2**20, 1),
            "rss_growth_mib": round((self.rss_peak - self.rss_start) / 2**20, 1),
        }


@contextmanager
def measured(interval: float = 0.05) -> Iterator[Phase]:
    """Time the block; a sampler thread keeps the highest RSS seen (maxrss never goes down)."""
    release_memory()
    phase = Phase(load_start=os.getloadavg()[0], rss_start=rss_bytes())
    phase.rss_peak = phase.rss_start
    stop = threading.Event()

    def sample() -> None:
        while not stop.wait(interval):
            phase.rss_peak = max(phase.rss_peak, rss_bytes())

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    t0, c0 = time.perf_counter(), time.process_time()
    try:
        yield phase
    finally:
        phase.wall_s, phase.cpu_s = time.perf_counter() - t0, time.process_time() - c0
        stop.set()
        sampler.join()
        phase.rss_peak = max(phase.rss_peak, rss_bytes())
        phase.load_end = os.getloadavg()[0]


# --------------------------------------------------------------------------- synthetic corpus

_WORD = re.compile(r"\b[A-Za-z]{3,}\b")
_SENTENCE_BREAK = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"'“])")


def _vocabulary(records: list[dict[str, Any]]) -> list[str]:
    words: set[str] = set()
    for rec in records:
        words.update(w.lower() for w in _WORD.findall(rec.get("text") or ""))
    return sorted(words)


def perturb(text: str, rng: random.Random, vocabulary: list[str], *, rate: float) -> str:
    """Sentences shuffled within each paragraph, and a share `rate` of words swapped for others.

    Enough change that every passage embeds as new text and no copy is a near-duplicate of
    another (MinHash over 5-word shingles stays far below the 0.9 threshold), while paragraph
    and sentence lengths, hence chunk counts and token lengths, stay those of real news.
    """

    def swap(match: re.Match[str]) -> str:
        if rng.random() >= rate:
            return match.group(0)
        word = rng.choice(vocabulary)
        return word.capitalize() if match.group(0)[0].isupper() else word

    paragraphs = []
    for paragraph in text.split("\n\n"):
        sentences = _SENTENCE_BREAK.split(paragraph)
        rng.shuffle(sentences)
        paragraphs.append(_WORD.sub(swap, " ".join(sentences)))
    return "\n\n".join(paragraphs)


def write_synthetic(source: Path, out: Path, *, articles: int, seed: int, rate: float) -> int:
    """`articles` perturbed copies of the sample's records, cycling through it; returns the count."""
    records = [json.loads(line) for line in source.read_text(encoding="utf-8").splitlines() if line.strip()]
    vocabulary = _vocabulary(records)
    rng = random.Random(seed)
    written = 0
    with out.open("w", encoding="utf-8") as fh:
        for copy in itertools.count(1):
            for rec in records:
                if written >= articles:
                    return written
                new = dict(rec)
                # A new url (the article id derives from it) and a new dataset id per copy.
                new["id"] = f"{rec['id']}-s{copy}"
                new["url"] = f"{rec['url'].rstrip('/')}/synthetic-{copy}"
                new["title"] = perturb(rec.get("title") or "", rng, vocabulary, rate=rate)
                new["text"] = perturb(rec.get("text") or "", rng, vocabulary, rate=rate)
                fh.write(json.dumps(new, ensure_ascii=False) + "\n")
                written += 1
    raise AssertionError("unreachable")  # itertools.count never ends; the loop returns


# --------------------------------------------------------------------------- the texts a build embedded


def embedded_texts(index_dir: Path, tokenizer: Any) -> tuple[list[str], int]:
    """The distinct "Title. passage" strings of the served generation in chunk order, and the passage count.

    Passages with identical text (perturbed copies can coincide) are encoded once by the
    build, so the raw side encodes each distinct text once too.

    Rebuilt with the pipeline's own `embedding_text` from the stored title and passage, and
    checked against the hash the build stored for each, so raw encode gets exactly its input.
    """
    gen = generation_path(index_dir, current_generation(index_dir) or "")
    db = sqlite3.connect(f"file:{gen / STORE_DB}?mode=ro", uri=True)
    try:
        rows = db.execute(
            "SELECT a.title, c.text, c.embed_hash FROM chunks c JOIN articles a ON a.id = c.article_id ORDER BY c.article_id, c.position"
        ).fetchall()
    finally:
        db.close()
    texts: dict[str, str] = {}
    for title, text, embed_hash in rows:
        full = embedding_text(title, text, tokenizer)
        if hashlib.sha256(full.encode("utf-8")).hexdigest() != embed_hash:
            raise RuntimeError("a rebuilt embedding text differs from what the build embedded; index.chunk changed?")
        texts.setdefault(embed_hash, full)
    return list(texts.values()), len(rows)


# --------------------------------------------------------------------------- one corpus


@dataclass
class CorpusResult:
    corpus: str
    input: str
    articles: int
    chunks: int
    chunks_embedded: int
    duplicates: int
    problems: int
    build: dict
    build_timings: dict
    raw_encode: dict
    unchanged_rebuild: dict
    unchanged_add: dict
    rates: dict = field(default_factory=dict)
    ratios: dict = field(default_factory=dict)
    targets: dict = field(default_factory=dict)


def _settings(index_dir: Path) -> Settings:
    # Nothing from a .env file: the figures are for the defaults (flat index, 200-token chunks).
    return Settings(_env_file=None, index_dir=index_dir)  # type: ignore[call-arg]


def run_corpus(name: str, path: Path, *, embedder: Embedder, raw_model: Any, folder: Path) -> CorpusResult:
    index_dir = folder / f"{name}-index"
    settings = _settings(index_dir)
    print(f"\n== {name}: full build of {path.name} into a fresh index (load {os.getloadavg()[0]:.1f})", flush=True)
    with measured() as build:
        report: BuildReport = update_index(index_dir, embedder=embedder, settings=settings, inputs=[str(path)], mode="rebuild")
    if report.chunks_cached:
        raise RuntimeError(f"{report.chunks_cached} passages came from the cache of a fresh index: the figures would not be a full build")
    print(f"   {report.summary()}", flush=True)

    texts, passages = embedded_texts(index_dir, embedder.tokenizer)
    if passages != report.chunks_embedded:
        raise RuntimeError(f"read back {passages} passages, the build embedded {report.chunks_embedded}")
    print(f"   raw {type(raw_model).__name__}.encode of the same {len(texts):,} texts, batch size {settings.embed_batch_size}", flush=True)
    with measured() as raw:
        raw_model.encode(texts, batch_size=settings.embed_batch_size, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False)

    with measured() as again:
        second = update_index(index_dir, embedder=embedder, settings=settings, inputs=[str(path)], mode="rebuild")
    with measured() as add:
        third = update_index(index_dir, embedder=embedder, settings=settings, inputs=[str(path)], mode="add")
    if second.chunks_embedded or third.chunks_embedded or second.published or third.published:
        raise RuntimeError(f"an unchanged build did work: {second.summary()} / {third.summary()}")

    result = CorpusResult(
        corpus=name, input=path.name if name == "wikinews" else "synthetic (see method)",
        articles=report.articles, chunks=report.chunks, chunks_embedded=report.chunks_embedded,
        duplicates=len(report.duplicates), problems=len(report.problems),
        build=build.to_dict(), build_timings={k: round(v, 2) for k, v in report.timings.items()},
        raw_encode=raw.to_dict(), unchanged_rebuild=again.to_dict(), unchanged_add=add.to_dict(),
    )
    result.rates = {
        "build_articles_per_s": round(report.articles / build.wall_s, 2),
        "build_chunks_per_s": round(report.chunks / build.wall_s, 2),
        "raw_encode_chunks_per_s": round(len(texts) / raw.wall_s, 2),
        "distinct_texts_encoded": len(texts),
    }
    result.ratios = {
        "overhead_wall": round(build.wall_s / raw.wall_s, 3),
        "overhead_cpu": round(build.cpu_s / raw.cpu_s, 3),
        "unchanged_rebuild_share": round(again.wall_s / build.wall_s, 4),
        "unchanged_add_share": round(add.wall_s / build.wall_s, 4),
    }
    result.targets = {
        "overhead_le_1.15": result.ratios["overhead_wall"] <= TARGET_OVERHEAD,
        "unchanged_rebuild_le_5pct": result.ratios["unchanged_rebuild_share"] <= TARGET_UNCHANGED,
    }
    print(_format(result), flush=True)
    return result


def _format(r: CorpusResult) -> str:
    t = r.build_timings
    return (
        f"   {r.corpus:<10} {r.articles:>6,} articles {r.chunks:>7,} chunks | build {r.build['wall_s']:>7.1f}s "
        f"({r.rates['build_articles_per_s']:.1f} art/s, {r.rates['build_chunks_per_s']:.1f} chunks/s; "
        f"ingest {t.get('ingest', 0):.1f} embed {t.get('embed', 0):.1f} vectors {t.get('vectors', 0):.1f}) | "
        f"raw encode {r.raw_encode['wall_s']:>7.1f}s ({r.rates['raw_encode_chunks_per_s']:.1f} chunks/s) | "
        f"overhead x{r.ratios['overhead_wall']:.3f} wall, x{r.ratios['overhead_cpu']:.3f} cpu | "
        f"unchanged rebuild {r.unchanged_rebuild['wall_s']:.2f}s ({100 * r.ratios['unchanged_rebuild_share']:.1f}%), "
        f"add {r.unchanged_add['wall_s']:.2f}s ({100 * r.ratios['unchanged_add_share']:.1f}%) | "
        f"peak RSS {r.build['rss_peak_mib']:.0f} MiB | load {r.build['loadavg_1m_start']:.1f}->{r.unchanged_add['loadavg_1m_end']:.1f}"
    )


def print_table(results: list[CorpusResult]) -> None:
    header = ("corpus", "articles", "chunks", "build s", "art/s", "chunks/s", "raw s", "raw ch/s", "overhead", "cpu ovh", "unch. rebuild", "unch. add", "peak MiB", "load")
    rows = [header]
    for r in results:
        rows.append((
            r.corpus, f"{r.articles:,}", f"{r.chunks:,}", f"{r.build['wall_s']:.1f}", f"{r.rates['build_articles_per_s']:.1f}",
            f"{r.rates['build_chunks_per_s']:.1f}", f"{r.raw_encode['wall_s']:.1f}", f"{r.rates['raw_encode_chunks_per_s']:.1f}",
            f"x{r.ratios['overhead_wall']:.3f}", f"x{r.ratios['overhead_cpu']:.3f}",
            f"{r.unchanged_rebuild['wall_s']:.2f}s {100 * r.ratios['unchanged_rebuild_share']:.1f}%",
            f"{r.unchanged_add['wall_s']:.2f}s {100 * r.ratios['unchanged_add_share']:.1f}%",
            f"{max(r.build['rss_peak_mib'], r.raw_encode['rss_peak_mib']):.0f}",
            f"{r.build['loadavg_1m_start']:.1f}-{r.unchanged_add['loadavg_1m_end']:.1f}",
        ))
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    print()
    for row in rows:
        print("  ".join(cell.rjust(w) if i else cell.ljust(w) for i, (cell, w) in enumerate(zip(row, widths))))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--wikinews", type=Path, default=WIKINEWS, help="the Wikinews sample (read in place, never copied)")
    parser.add_argument("--synthetic-chunks", type=int, default=20_000, help="size of the synthetic corpus in chunks, about (0: skip it)")
    parser.add_argument("--sample-articles", type=int, default=0, help="only the first N Wikinews articles (a smoke test; 0: all)")
    parser.add_argument("--perturb-rate", type=float, default=0.15, help="share of words swapped in each synthetic copy")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    if not args.wikinews.exists():
        print(f"the Wikinews sample is not at {args.wikinews} (it lives in ../shared, outside the repository)", file=sys.stderr)
        return 2

    import torch
    from sentence_transformers import SentenceTransformer

    started = time.perf_counter()
    load0 = os.getloadavg()
    settings = _settings(Path("unused"))
    embedder = load_embedder(settings.model, backend=settings.embed_backend, cache_dir=settings.model_cache_dir)
    # The raw side is the model's own encode with nothing of ours around it: a separate, plain
    # SentenceTransformer on the same weights for torch; for the ONNX backends the same
    # onnxruntime session the embedder wraps (what a user of that session alone would get).
    raw_model = SentenceTransformer(embedder.location, device="cpu") if embedder.backend == "torch" else embedder.model
    for model in (embedder, raw_model):  # first calls allocate and pick kernels: not part of either figure
        model.encode(["warm-up passage one.", "A second, somewhat longer warm-up passage for the model."], batch_size=2)

    report: dict[str, Any] = {
        "machine": {
            "commit": git_head(), "cpus": os.cpu_count(), "torch_threads": torch.get_num_threads(),
            "env": {k: os.environ.get(k) for k in ("OMP_NUM_THREADS", "OMP_WAIT_POLICY", "MKL_NUM_THREADS")}, "python": platform.python_version(),
            "torch": torch.__version__, "sentence_transformers": __import__("sentence_transformers").__version__,
            "loadavg_at_start": load0,
        },
        "method": {
            "model": embedder.name, "backend": embedder.backend, "batch_size": settings.embed_batch_size,
            "chunk_tokens": settings.chunk_tokens, "chunk_overlap": settings.chunk_overlap, "faiss_index": settings.faiss_index,
            "overhead": "full build wall time / raw encode wall time of the same texts (SentenceTransformer.encode for torch, the onnxruntime model for onnx backends), same process and batch size",
            "unchanged": "second update_index with the same input: mode rebuild (newsbot index build) and mode add (newsbot index add)",
            "synthetic": f"the Wikinews records cycled, each copy with a new url and id, sentences shuffled within paragraphs "
                         f"and {args.perturb_rate:.0%} of words swapped for words of the sample's vocabulary (seed {args.seed})",
            "targets": {"overhead_wall": TARGET_OVERHEAD, "unchanged_rebuild_share": TARGET_UNCHANGED},
        },
        "corpora": [],
    }
    results: list[CorpusResult] = []
    with tempfile.TemporaryDirectory(prefix="newsbot-ingest-") as tmp:
        folder = Path(tmp)
        sample = args.wikinews
        if args.sample_articles > 0:
            sample = folder / "wikinews-sample.jsonl"
            with args.wikinews.open(encoding="utf-8") as src:
                sample.write_text("".join(itertools.islice(src, args.sample_articles)), encoding="utf-8")
            report["method"]["sample_articles"] = args.sample_articles
        wiki = run_corpus("wikinews", sample, embedder=embedder, raw_model=raw_model, folder=folder)
        results.append(wiki)
        _write(report, results, args.out, started)
        if args.synthetic_chunks > 0:
            per_article = wiki.chunks / max(1, wiki.articles)
            count = max(1, math.ceil(args.synthetic_chunks / per_article))
            synthetic = folder / "synthetic.jsonl"
            write_synthetic(sample, synthetic, articles=count, seed=args.seed, rate=args.perturb_rate)
            print(f"\nsynthetic corpus: {count:,} perturbed articles (~{count * per_article:,.0f} chunks expected)", flush=True)
            results.append(run_corpus("synthetic", synthetic, embedder=embedder, raw_model=raw_model, folder=folder))
            _write(report, results, args.out, started)
    print_table(results)
    print(f"\nwrote {args.out} (peak RSS of the process {maxrss_bytes() / 2**20:.0f} MiB, {time.perf_counter() - started:.0f}s)")
    return 0


def _write(report: dict[str, Any], results: list[CorpusResult], out: Path, started: float) -> None:
    from dataclasses import asdict

    report["corpora"] = [asdict(r) for r in results]
    report["machine"]["maxrss_mib"] = round(maxrss_bytes() / 2**20, 1)
    write_report(report, out, started)


if __name__ == "__main__":
    raise SystemExit(main())
