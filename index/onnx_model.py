"""The embedding model run by ONNX Runtime: exported once from the torch weights, optionally int8.

sentence-transformers' own `backend="onnx"` needs optimum-onnx, which cannot be installed
beside sentence-transformers 6 (it pins transformers < 4.58). So the whole SentenceTransformer
(transformer, pooling, normalization: whatever modules the model has) is exported here with
`torch.onnx`, quantized with `onnxruntime.quantization`, and run with an onnxruntime session
and the model's own tokenizer. Measured on this 2-core machine (docs/benchmarks.md): int8
encodes a short query about 4x faster than torch with vectors at cosine 0.99 to torch's.
"""

from __future__ import annotations

import copy
import json
import logging
import os
import tempfile
import threading
import time
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["OnnxSentenceModel", "export_onnx"]

log = logging.getLogger(__name__)

FP32_FILE = "model.onnx"
INT8_FILE = "model-int8.onnx"
_EXPORT_VERSION = 1  # bump when the exported graph changes, so old exports are redone


class _DropRootRecords(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return False


def export_onnx(st_model: Any, export_dir: Path, *, quantize: bool) -> Path:
    """Write `export_dir/model.onnx` (and `model-int8.onnx` when `quantize`) once; return the file to run.

    Files are written under a temporary name and renamed, so a crash mid-export never leaves a
    truncated model that a later start would load.
    """
    import torch

    export_dir.mkdir(parents=True, exist_ok=True)
    fp32 = export_dir / FP32_FILE
    stamp = export_dir / "export.json"
    fresh = stamp.is_file() and json.loads(stamp.read_text()).get("version") == _EXPORT_VERSION
    if not (fp32.is_file() and fresh):
        started = time.perf_counter()
        names = list(st_model.tokenizer.model_input_names)
        sample = st_model.tokenizer(["a short sample", "a somewhat longer second sample sentence"], padding=True, return_tensors="pt")
        inputs = tuple(sample[name] for name in names)

        class _Sentence(torch.nn.Module):
            # Keyword inputs: transformers 5 reordered the positional parameters of forward().
            def __init__(self, inner: torch.nn.Module) -> None:
                super().__init__()
                self.inner = inner

            def forward(self, *tensors: torch.Tensor) -> torch.Tensor:
                return self.inner(dict(zip(names, tensors, strict=True)))["sentence_embedding"]

        dynamic = {name: {0: "batch", 1: "sequence"} for name in names} | {"sentence_embedding": {0: "batch"}}
        with tempfile.TemporaryDirectory(dir=export_dir) as tmp, torch.no_grad(), warnings.catch_warnings():
            # The tracer warns about shape checks it freezes (padding, causal masks, pooling's
            # mask test); for an encoder they hold at any batch and length, and a test checks
            # the exported vectors against torch's on texts of mixed lengths.
            warnings.simplefilter("ignore")
            target = Path(tmp) / FP32_FILE
            torch.onnx.export(
                _Sentence(st_model.cpu().eval()), inputs, str(target), input_names=names,
                output_names=["sentence_embedding"], dynamic_axes=dynamic, opset_version=17, dynamo=False,
            )
            os.replace(target, fp32)
        (export_dir / INT8_FILE).unlink(missing_ok=True)
        stamp.write_text(json.dumps({"version": _EXPORT_VERSION, "inputs": names}))
        log.info("onnx export written", extra={"path": str(fp32), "seconds": round(time.perf_counter() - started, 1)})
    if not quantize:
        return fp32
    int8 = export_dir / INT8_FILE
    if not int8.is_file():
        from onnxruntime.quantization import QuantType, quantize_dynamic

        started = time.perf_counter()
        quiet = _DropRootRecords()  # the quantizer logs advice and per-tensor notes to the root logger
        logging.getLogger().addFilter(quiet)
        try:
            with tempfile.TemporaryDirectory(dir=export_dir) as tmp:
                target = Path(tmp) / INT8_FILE
                # Weights int8 per output channel with a 7-bit range: without AVX-512 VNNI, u8 x s8
                # products can saturate at 8 bits. Measured against fp32 on Wikinews passages:
                # cosine 0.993 mean; uint8 per-tensor weights (optimum's "avx2" preset) gave 0.975.
                quantize_dynamic(str(fp32), str(target), weight_type=QuantType.QInt8, per_channel=True, reduce_range=True)
                os.replace(target, int8)
        finally:
            logging.getLogger().removeFilter(quiet)
        log.info("onnx int8 model written", extra={"path": str(int8), "seconds": round(time.perf_counter() - started, 1)})
    return int8


class OnnxSentenceModel:
    """Looks like the parts of a SentenceTransformer that `index.embed.Embedder` uses."""

    def __init__(self, onnx_file: Path, *, tokenizer: Any, dim: int, max_seq_length: int, threads: int = 0) -> None:
        self.onnx_file = Path(onnx_file)
        self._session = _session(self.onnx_file, threads=threads)
        self._inputs = [i.name for i in self._session.get_inputs()]
        self.tokenizer = tokenizer
        self.max_seq_length = max_seq_length
        self._dim = dim
        # Queries get a session and a tokenizer of their own, made on first use (see encode_query).
        self._query_session: Any = None
        self._query_tokenizer: Any = None
        self._query_lock = threading.Lock()

    def get_sentence_embedding_dimension(self) -> int:
        return self._dim

    def encode(
        self,
        sentences: Sequence[str],
        *,
        batch_size: int = 32,
        normalize_embeddings: bool = True,
        show_progress_bar: bool = False,
        **_: object,
    ) -> np.ndarray:
        """Vectors in input order; batches are formed from length-sorted texts to pad less."""
        texts = list(sentences)
        order = np.argsort([-len(t) for t in texts], kind="stable")
        out = np.zeros((len(texts), self._dim), dtype=np.float32)
        for start in range(0, len(texts), batch_size):
            rows = order[start : start + batch_size]
            feeds = self.tokenizer(
                [texts[i] for i in rows], padding=True, truncation=True, max_length=self.max_seq_length, return_tensors="np"
            )
            out[rows] = self._session.run(None, self._feed(feeds))[0]
        return _unit_rows(out) if normalize_embeddings else out

    def encode_query(self, text: str) -> np.ndarray:
        """One text's normalized vector, shape (dim,); safe to call from many threads at once.

        A question is a dozen tokens: splitting its matrix products over the cores costs more
        in hand-offs than it saves (measured: 3.3 ms of CPU a query on one thread against 4.3
        on two, at the same wall time), and concurrent requests already keep every core busy.
        So queries run on a second session with one thread, without the lock batches take, and
        with a copy of the tokenizer: a fast tokenizer refuses to be called from two threads
        at once ("Already borrowed"), and a build may be using the first one.
        """
        with self._query_lock:
            if self._query_session is None:
                self._query_tokenizer = copy.deepcopy(self.tokenizer)
                self._query_session = _session(self.onnx_file, threads=1)
            feeds = self._query_tokenizer([text], truncation=True, max_length=self.max_seq_length, return_tensors="np")
        return _unit_rows(self._query_session.run(None, self._feed(feeds))[0])[0]

    def _feed(self, feeds: Any) -> dict[str, np.ndarray]:
        """The tokenizer's arrays as the graph's int64 inputs."""
        return {name: np.asarray(feeds[name], dtype=np.int64) for name in self._inputs}


def _unit_rows(matrix: np.ndarray) -> np.ndarray:
    """`matrix` with each row scaled to length 1, in place."""
    matrix /= np.clip(np.linalg.norm(matrix, axis=1, keepdims=True), 1e-12, None)
    return matrix


def _session(onnx_file: Path, *, threads: int) -> Any:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    # Idle workers sleep rather than spin: the service shares its cores with the HTTP
    # threads and other processes, where spinning steals the CPU the encoding needs.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    if threads:
        options.intra_op_num_threads = threads
    return ort.InferenceSession(str(onnx_file), options, providers=["CPUExecutionProvider"])
