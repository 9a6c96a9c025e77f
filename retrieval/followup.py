"""Follow-up questions: "and what did France say?" only makes sense after the question before.

How it works (also in docs/retrieval.md): a question that leans on the conversation (it opens
with "and"/"what about"/"how about", refers back with a pronoun or "that"/"this", or has fewer
than three topical words of its own) is searched with the topical words of the previous
questions appended, newest first, so both dense and keyword search see the subject. Answers in
the history are not used: they are our own words, and quoting them back would let one wrong
answer steer every later one. A question that names its own subject stands alone.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from retrieval.text import content_terms
from retrieval.types import Turn

__all__ = ["is_follow_up", "search_query"]

_LEAD_IN = re.compile(r"^\s*(?:and|but|also|so|then|what about|how about|and what about|what else|why|how come)\b", re.I)
_BACK_REFERENCE = re.compile(r"\b(?:he|she|it|they|them|his|her|hers|its|their|theirs|him|that|this|those|these|there|the same)\b", re.I)
#: Previous turns looked at, newest first.
_MAX_TURNS = 2
_MAX_CONTEXT_TERMS = 12


def is_follow_up(question: str) -> bool:
    """Whether `question` needs the conversation to be understood."""
    if _LEAD_IN.search(question):
        return True
    if len(content_terms(question)) < 3:
        return True
    return bool(_BACK_REFERENCE.search(question)) and not re.search(r"\b[A-Z][a-z]+\b", question[1:])


def search_query(question: str, history: Sequence[Turn] | None) -> tuple[str, list[str]]:
    """The text to search for `question` and the context words borrowed from `history`."""
    if not history or not is_follow_up(question):
        return question, []
    own = set(content_terms(question))
    borrowed: list[str] = []
    words: list[str] = []
    for turn in list(history)[::-1][:_MAX_TURNS]:
        for raw in re.findall(r"[^\W_]+(?:['’.-][^\W_]+)*", turn.question):
            terms = content_terms(raw)
            if not terms or terms[0] in own or terms[0] in borrowed:
                continue
            borrowed.append(terms[0])
            words.append(raw)
            if len(borrowed) >= _MAX_CONTEXT_TERMS:
                break
        if len(borrowed) >= _MAX_CONTEXT_TERMS:
            break
    if not words:
        return question, []
    return f"{question} ({' '.join(words)})", borrowed
