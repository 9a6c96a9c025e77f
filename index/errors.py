"""Errors raised by the index package."""

from __future__ import annotations

__all__ = ["IndexMissingError", "ModelError", "ModelMismatchError", "NewsbotIndexError", "PageParseError", "VectorIndexError"]


class NewsbotIndexError(Exception):
    """Base of every error the index raises; its message is meant for the user."""


class ModelError(NewsbotIndexError):
    """The embedding model could not be found or loaded."""


class IndexMissingError(NewsbotIndexError):
    """No index has been built in the index folder yet."""


class ModelMismatchError(NewsbotIndexError):
    """The index was built with another embedding model than the one configured."""


class VectorIndexError(NewsbotIndexError):
    """A FAISS vector index file is missing or unreadable, or cannot do what was asked (e.g. remove from HNSW)."""


class PageParseError(NewsbotIndexError, ValueError):
    """A scraped page or file held no title and body that could be told apart."""

    def __init__(self, origin: str, reason: str) -> None:
        super().__init__(f"{origin}: {reason}")
        self.origin = origin
        self.reason = reason
