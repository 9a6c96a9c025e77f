"""Errors raised by the retrieval package."""

from __future__ import annotations

__all__ = ["GenerationError", "RetrievalError"]


class RetrievalError(Exception):
    """Base of every error retrieval raises; its message is meant for the user."""


class GenerationError(RetrievalError):
    """The generative model failed (timeout, HTTP error, malformed reply); the extractive answer stands in."""
