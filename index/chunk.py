"""Splitting article bodies into token-bounded passages that remember where they came from."""

from __future__ import annotations

import logging
from typing import Any

from langchain_text_splitters import RecursiveCharacterTextSplitter

from index.models import Chunk

__all__ = ["Chunker", "TITLE_TOKENS", "embedding_text"]

log = logging.getLogger(__name__)

#: Tokens of the title that go in front of a passage when it is embedded. The chunk budget
#: leaves room for them, so "Title. passage" never exceeds the model's max_seq_length.
TITLE_TOKENS = 48

# Paragraphs first, then lines, sentences, clauses, words. Zero-width look-behinds keep the
# punctuation with its sentence, and keep_separator="end" keeps every character, so each
# chunk is an exact slice of the body.
_SEPARATORS = ["\n\n", "\n", r"(?<=[.!?…][\"'”’)\]])\s+", r"(?<=[.!?…])\s+", r"(?<=[,;:])\s+", r"\s+", ""]


def embedding_text(title: str, text: str, tokenizer: Any) -> str:
    """What is embedded for a passage: its article's title (truncated) as context, then the passage."""
    title = " ".join(title.split())
    if not title:
        return text
    ids = tokenizer(title, add_special_tokens=False)["input_ids"]
    if len(ids) > TITLE_TOKENS:
        title = tokenizer.decode(ids[:TITLE_TOKENS])
    return f"{title}. {text}"


class Chunker:
    """Token-aware recursive splitting with overlap, via langchain-text-splitters."""

    def __init__(self, tokenizer: Any, *, chunk_tokens: int, overlap_tokens: int, max_seq_length: int) -> None:
        # Two special tokens ([CLS], [SEP]) and the title prefix share the model's window.
        budget = max_seq_length - 2 - TITLE_TOKENS - 2
        self.chunk_tokens = max(16, min(chunk_tokens, budget))
        self.overlap_tokens = min(overlap_tokens, self.chunk_tokens // 2)
        self.max_seq_length = max_seq_length
        self._tokenizer = tokenizer
        self._splitter = RecursiveCharacterTextSplitter(
            chunk_size=self.chunk_tokens,
            chunk_overlap=self.overlap_tokens,
            length_function=self.count_tokens,
            separators=_SEPARATORS,
            is_separator_regex=True,
            keep_separator="end",
            strip_whitespace=True,
        )

    def count_tokens(self, text: str) -> int:
        return len(self._tokenizer(text, add_special_tokens=False, verbose=False)["input_ids"])

    def split(self, article_id: str, body: str) -> list[Chunk]:
        """Passages of `body`, in order, each with its character offsets: body[start:end] == text."""
        chunks: list[Chunk] = []
        cursor = 0
        for piece in self._splitter.split_text(body):
            if not piece.strip():
                continue
            # Overlap means the next piece may begin before the previous one ended, but never
            # before the previous one began.
            start = body.find(piece, cursor)
            if start < 0:
                start = body.find(piece)
            if start < 0:  # pragma: no cover - the splitter only ever returns slices of the body
                log.warning("chunk not found in body", extra={"article_id": article_id})
                continue
            end = start + len(piece)
            chunks.append(Chunk(article_id=article_id, position=len(chunks), start=start, end=end, text=piece))
            cursor = start + 1
        return chunks
