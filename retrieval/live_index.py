"""The index a running service answers from, swapped under in-flight requests without failing them.

A `Snapshot` pairs one opened index generation with the retriever built on it and is never
changed once published. Requests take a snapshot and hand it back when done; a swap publishes a
new one and retires the old, which is closed only once its last request has handed it back. So a
reload, an admin ingest or a CLI rebuild never closes a reader a request is still reading.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["LiveIndex", "NotReadyError", "Snapshot"]

log = logging.getLogger(__name__)


class NotReadyError(Exception):
    """Raised when a request needs the index before one could be loaded; the message says why."""


@dataclass(eq=False)
class Snapshot:
    """One index generation and the retriever answering from it."""

    reader: Any
    retriever: Any
    generation: str
    stats: dict[str, Any]
    #: Requests currently using this snapshot (guarded by the LiveIndex lock).
    users: int = 0
    retired: bool = False
    loaded_at: float = field(default_factory=time.time)


#: (mtime_ns, size, inode) of the CURRENT pointer file, or None when it does not exist.
_Stamp = tuple[int, int, int] | None


class LiveIndex:
    """Holds the served snapshot; swaps it on reload, admin writes and CLI rebuilds."""

    def __init__(
        self,
        index_dir: Path,
        *,
        open_reader: Callable[[Path], Any],
        make_retriever: Callable[[Any], Any],
        on_swap: Callable[[Snapshot], None] | None = None,
    ) -> None:
        self.index_dir = Path(index_dir)
        self._open_reader = open_reader
        self._make_retriever = make_retriever
        self._on_swap = on_swap
        self._current: Snapshot | None = None
        self._lock = threading.Lock()
        # One loader at a time; a request that finds a load under way serves the current
        # snapshot instead of queueing behind it.
        self._load_lock = threading.Lock()
        #: Serializes index writers (admin ingest and delete) inside this process.
        self.write_lock = threading.Lock()
        self._seen: _Stamp = None
        self.problem: str | None = "loading"

    # --- reading ------------------------------------------------------------------------------

    @property
    def current(self) -> Snapshot | None:
        return self._current

    @property
    def pointer(self) -> Path:
        return self.index_dir / "CURRENT"

    def acquire(self) -> Snapshot:
        """The served snapshot, counted as in use until `release`. Raises NotReadyError."""
        with self._lock:
            snap = self._current
            if snap is None:
                raise NotReadyError(self.problem or "the index is not loaded yet")
            snap.users += 1
            return snap

    def release(self, snap: Snapshot) -> None:
        with self._lock:
            snap.users -= 1
            close_now = snap.retired and snap.users == 0
        if close_now:
            self._close(snap)

    @contextmanager
    def use(self) -> Iterator[Snapshot]:
        snap = self.acquire()
        try:
            yield snap
        finally:
            self.release(snap)

    # --- loading and swapping -------------------------------------------------------------

    def _stamp(self) -> _Stamp:
        try:
            st = os.stat(self.pointer)
        except OSError:
            return None
        return (st.st_mtime_ns, st.st_size, st.st_ino)

    def pointer_changed(self) -> bool:
        """Cheap (one stat) check whether CURRENT moved since it was last looked at."""
        return self._stamp() != self._seen

    def load(self) -> Snapshot:
        """Open the generation CURRENT names and serve it (blocking; run it in a thread)."""
        with self._load_lock:
            return self._load_locked()

    def refresh_if_changed(self) -> bool:
        """Serve the generation CURRENT names if it is not the served one (blocking).

        Returns True when a new snapshot was published. A failure to open the new generation
        keeps the old one served and is retried only when CURRENT changes again.
        """
        if not self.pointer_changed():
            return False
        if not self._load_lock.acquire(blocking=False):
            return False  # another request is loading it right now
        try:
            if not self.pointer_changed():
                return False
            before = self._current
            try:
                snap = self._load_locked()
            except Exception as exc:  # keep serving what we have; say why in the log and readyz
                log.warning("could not open the new index generation", extra={"error": str(exc)})
                if before is None:
                    self.problem = str(exc)
                return False
            return snap is not before
        finally:
            self._load_lock.release()

    def _load_locked(self) -> Snapshot:
        stamp = self._stamp()
        self._seen = stamp
        current = self._current
        reader = self._open_reader(self.index_dir)
        if current is not None and reader.generation == current.generation:
            self._close_reader(reader)
            return current
        try:
            retriever = self._make_retriever(reader)
            stats = dict(reader.stats())
        except BaseException:
            self._close_reader(reader)
            raise
        snap = Snapshot(reader=reader, retriever=retriever, generation=str(reader.generation), stats=stats)
        self.publish(snap)
        return snap

    def publish(self, snap: Snapshot) -> None:
        """Serve `snap` from now on; the old snapshot closes when its last request ends."""
        with self._lock:
            old, self._current = self._current, snap
            self.problem = None
            close_old = False
            if old is not None:
                old.retired = True
                close_old = old.users == 0
        log.info("index generation served", extra={"generation": snap.generation, "previous": old.generation if old else None})
        if self._on_swap is not None:
            self._on_swap(snap)
        if close_old and old is not None:
            self._close(old)

    def fail(self, reason: str) -> None:
        """Record why no index could be loaded (shown by /readyz and 503 answers)."""
        self.problem = reason
        # Whatever CURRENT says now has been tried; a later change is worth another attempt.
        self._seen = self._stamp()

    def close(self) -> None:
        with self._lock:
            snap, self._current = self._current, None
            self.problem = "shutting down"
            if snap is not None:
                snap.retired = True
                close_now = snap.users == 0
        if snap is not None and close_now:
            self._close(snap)

    def _close(self, snap: Snapshot) -> None:
        close = getattr(snap.retriever, "close", None)
        if callable(close):
            try:
                close()
            except Exception:  # a failing close must not fail the request that happened to end last
                log.warning("closing a retriever failed", exc_info=True)
        self._close_reader(snap.reader)

    @staticmethod
    def _close_reader(reader: Any) -> None:
        try:
            reader.close()
        except Exception:
            log.warning("closing an index reader failed", exc_info=True)
