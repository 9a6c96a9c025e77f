"""Files and folders -> `Article`s, with every unusable input reported as an `IngestProblem`.

Formats, chosen by extension and then by content:

- `.txt`: a scraped page (see `index.clean`) when it has that shape, else plain text;
- `.md`, `.markdown`, `.txt`: plain text or Markdown, with optional YAML front matter;
- `.html`, `.htm`: main text and metadata through trafilatura;
- `.json`: one record, an array of records, or an object holding one array of records;
- `.jsonl`, `.ndjson`: one record a line, streamed.

Nothing in the input raises out of `iter_articles`: a bad file, a bad line or a bad record
becomes an `IngestProblem(origin, reason, line)` and the walk goes on.
"""

from __future__ import annotations

import codecs
import json
import os
import re
from collections.abc import Iterable, Iterator, Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any

import yaml
from charset_normalizer import from_bytes

from index.clean import looks_like_scraped_page, parse_scraped_page, take_byline
from index.dates import to_iso
from index.errors import PageParseError
from index.extract import article_from_html, fragment_text
from index.models import Article, IngestProblem, normalize_body

__all__ = ["FIELD_ALIASES", "SUPPORTED_SUFFIXES", "iter_articles"]

#: Our field -> the keys real exports use for it, in order of preference. Keys are compared
#: case-insensitively and without `_`, `-` or spaces, so `datePublished` == `date_published`.
FIELD_ALIASES: dict[str, tuple[str, ...]] = {
    "title": ("title", "headline", "heading"),
    "body": ("body", "text", "content", "article", "articlebody", "maintext", "fulltext"),
    "published_at": (
        "published_at", "published", "date", "publish_date", "pubdate", "datepublished",
        "publication_date", "published_date", "pub_date", "datetime", "timestamp",
    ),
    "url": ("url", "link", "permalink", "canonical_url", "href", "uri"),
    "source": ("source", "site", "outlet", "publisher", "sitename", "site_name", "source_name", "newspaper", "feed"),
    "author": ("author", "byline", "authors", "creator", "writer"),
    "category": ("category", "section", "categories", "topic", "desk"),
    "summary": ("summary", "standfirst", "description", "excerpt", "abstract", "dek", "subtitle", "subheadline"),
}

_TEXT_SUFFIXES = {".txt", ".text"}
_MARKDOWN_SUFFIXES = {".md", ".markdown"}
_HTML_SUFFIXES = {".html", ".htm", ".xhtml"}
_JSON_SUFFIXES = {".json"}
_JSONL_SUFFIXES = {".jsonl", ".ndjson"}
#: Extensions `iter_articles` reads; a file without an extension is sniffed.
SUPPORTED_SUFFIXES = frozenset(_TEXT_SUFFIXES | _MARKDOWN_SUFFIXES | _HTML_SUFFIXES | _JSON_SUFFIXES | _JSONL_SUFFIXES)

# Bigger files are not news articles (a JSONL export is streamed and has no such limit).
_MAX_FILE_BYTES = 64 * 1024 * 1024
# Share of control characters above which decoded "text" is really binary data.
_MAX_CONTROL_SHARE = 0.01
_TITLE_MAX_CHARS = 200
_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)^(?:---|\.\.\.)[ \t]*$\r?\n?", re.DOTALL | re.MULTILINE)
_HTML_START = re.compile(r"\A\s*(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html|head|body)\b", re.IGNORECASE | re.DOTALL)
_SPACES = re.compile(r"[ \t]+")
_SENTENCE_END = re.compile(r"[.!?…][\"'”’)\]]*$")
_HTML_IN_TEXT = re.compile(r"</?(?:p|div|br|span|a|em|strong|li|ul|h[1-6])\b[^<>]{0,2000}>", re.IGNORECASE)


def iter_articles(
    paths: Iterable[str | Path],
    *,
    field_map: Mapping[str, str] | None = None,
) -> Iterator[Article | IngestProblem]:
    """Every article in `paths` (files or folders, walked recursively in sorted order, hidden
    entries skipped), and an `IngestProblem` for every input that could not be used.

    `field_map` maps our field to a record key of another name, e.g. `{"body": "story_text"}`;
    an unknown field raises ValueError here, before any file is read.
    """
    mapping = _check_field_map(field_map)
    return _walk(paths, mapping)


# --- walking -----------------------------------------------------------------------------


def _check_field_map(field_map: Mapping[str, str] | None) -> dict[str, str]:
    mapping: dict[str, str] = {}
    for ours, theirs in (field_map or {}).items():
        if ours not in FIELD_ALIASES:
            raise ValueError(f"field_map: unknown field {ours!r}; known fields are {', '.join(FIELD_ALIASES)}")
        if not isinstance(theirs, str) or not theirs.strip():
            raise ValueError(f"field_map: the key for {ours!r} must be a non-empty string, got {theirs!r}")
        mapping[ours] = theirs.strip()
    return mapping


def _walk(paths: Iterable[str | Path], mapping: dict[str, str]) -> Iterator[Article | IngestProblem]:
    for raw in paths:
        try:
            path = Path(raw)
        except TypeError:
            yield IngestProblem(repr(raw), "not a file or folder path")
            continue
        try:
            if path.is_dir():
                for item in _files_under(path):
                    if isinstance(item, IngestProblem):
                        yield item
                    else:
                        yield from _read_file_safely(item, mapping, explicit=False)
            elif path.exists():
                yield from _read_file_safely(path, mapping, explicit=True)
            else:
                yield IngestProblem(str(path), "no such file or folder")
        except (OSError, ValueError) as exc:  # ValueError: a NUL byte in the path
            yield IngestProblem(str(path), f"cannot be read: {getattr(exc, 'strerror', None) or exc}")


def _files_under(root: Path) -> Iterator[Path | IngestProblem]:
    errors: list[OSError] = []
    for dirpath, dirnames, filenames in os.walk(root, onerror=errors.append):
        yield from _folder_problems(errors, root)
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            if not name.startswith("."):
                yield Path(dirpath) / name
    yield from _folder_problems(errors, root)


def _folder_problems(errors: list[OSError], root: Path) -> Iterator[IngestProblem]:
    while errors:
        exc = errors.pop(0)
        yield IngestProblem(str(exc.filename or root), f"folder cannot be read: {exc.strerror or exc}")


def _read_file_safely(path: Path, mapping: dict[str, str], *, explicit: bool) -> Iterator[Article | IngestProblem]:
    origin = str(path)
    try:
        yield from _read_file(path, mapping, explicit=explicit)
    except PageParseError as exc:
        yield IngestProblem(origin, exc.reason)
    except OSError as exc:
        yield IngestProblem(origin, f"cannot be read: {exc.strerror or exc}")
    except Exception as exc:  # noqa: BLE001 - the promise is that no input stops a build
        yield IngestProblem(origin, f"could not be parsed ({type(exc).__name__}: {exc})")


def _read_file(path: Path, mapping: dict[str, str], *, explicit: bool) -> Iterator[Article | IngestProblem]:
    origin = str(path)
    suffix = path.suffix.lower()
    # A file the user named explicitly is worth sniffing whatever its extension; one met while
    # walking a folder is only read when its extension says it is ours (or it has none).
    if suffix and suffix not in SUPPORTED_SUFFIXES and not explicit:
        yield IngestProblem(origin, f"unsupported file type {suffix!r}")
        return
    if path.exists() and not path.is_file():
        # A FIFO or device would block or never end; only regular files are read.
        yield IngestProblem(origin, "not a regular file")
        return
    if suffix in _JSONL_SUFFIXES:
        yield from _read_jsonl(path, mapping)
        return

    size = path.stat().st_size
    if size > _MAX_FILE_BYTES:
        yield IngestProblem(origin, f"file too large ({size} bytes; the limit is {_MAX_FILE_BYTES})")
        return
    data = path.read_bytes()
    if not data.strip():
        yield IngestProblem(origin, "empty file")
        return
    decoded = _decode(data)
    if decoded is None:
        yield IngestProblem(origin, "binary file, not text")
        return
    text, encoding = decoded
    if not text.strip():
        yield IngestProblem(origin, "empty file")
        return

    kind = _kind(suffix, text)
    if kind == "json":
        items = _read_json(text, origin, mapping)
    elif kind == "html":
        items = iter([_html_article(text, origin)])
    elif kind == "page":
        items = iter([parse_scraped_page(text, origin=origin)])
    else:
        items = iter([_text_article(text, origin, markdown=kind == "markdown")])
    for item in items:
        if isinstance(item, Article) and encoding != "utf-8":
            item.metadata["encoding"] = encoding
        yield item


def _kind(suffix: str, text: str) -> str:
    """What to parse the text as: json, html, page, markdown or text."""
    head = text.lstrip()[:1]
    if suffix in _JSON_SUFFIXES:
        return "json"
    if suffix in _HTML_SUFFIXES or _HTML_START.match(text):
        return "html"
    if suffix in _MARKDOWN_SUFFIXES:
        return "markdown"
    if suffix not in SUPPORTED_SUFFIXES and head in ("{", "["):
        return "json"
    if not _FRONT_MATTER.match(text) and looks_like_scraped_page(text):
        return "page"
    return "text"


# --- decoding ----------------------------------------------------------------------------


def _decode(data: bytes) -> tuple[str, str] | None:
    """(text, encoding) for bytes in any common encoding, or None when they are binary."""
    for bom, encoding in (
        (codecs.BOM_UTF32_LE, "utf-32"),
        (codecs.BOM_UTF32_BE, "utf-32"),
        (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if data.startswith(bom):
            try:
                text = data.decode(encoding)
            except UnicodeDecodeError:
                break
            return (text, "utf-8" if encoding == "utf-8-sig" else encoding) if _is_text(text) else None
    try:
        text = data.decode("utf-8")
        encoding = "utf-8"
    except UnicodeDecodeError:
        best = from_bytes(data).best()
        if best is None:
            return None
        text, encoding = str(best), best.encoding
    return (text, encoding) if _is_text(text) else None


def _is_text(text: str) -> bool:
    sample = text[:65536]
    if not sample:
        return True
    control = sum(1 for ch in sample if ord(ch) < 32 and ch not in "\t\n\r\f\v" or ch == "\ufffd")
    return control / len(sample) <= _MAX_CONTROL_SHARE


def _decode_line(raw: bytes) -> str:
    # One line is too little for charset detection to be reliable; a line that is not UTF-8
    # is almost always a Windows or Latin-1 export.
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        try:
            return raw.decode("cp1252")
        except UnicodeDecodeError:
            return raw.decode("latin-1")


# --- JSON and JSONL ----------------------------------------------------------------------


def _read_jsonl(path: Path, mapping: dict[str, str]) -> Iterator[Article | IngestProblem]:
    origin = str(path)
    with path.open("rb") as handle:
        head = handle.read(8192)
        if b"\x00" in head and not head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            yield IngestProblem(origin, "binary file, not text")
            return
        if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE, codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)) or head.lstrip(
            codecs.BOM_UTF8 + b" \t\r\n"
        ).startswith(b"["):
            # A UTF-16 export or a JSON array saved as .jsonl: small enough to read whole.
            handle.seek(0)
            decoded = _decode(handle.read(_MAX_FILE_BYTES))
            if decoded is None:
                yield IngestProblem(origin, "binary file, not text")
                return
            yield from _read_json(decoded[0], origin, mapping)
            return
        handle.seek(0)
        records = 0
        for number, raw in enumerate(handle, start=1):
            if number == 1:
                raw = raw.removeprefix(codecs.BOM_UTF8)
            if not raw.strip():
                continue
            records += 1
            line = _decode_line(raw)
            try:
                value = json.loads(line)
            except json.JSONDecodeError as exc:
                yield IngestProblem(origin, _json_error(exc), number)
                continue
            yield _record(value, origin=origin, line=number, mapping=mapping)
    if records == 0:
        yield IngestProblem(origin, "empty file")


def _read_json(text: str, origin: str, mapping: dict[str, str]) -> Iterator[Article | IngestProblem]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        if exc.msg == "Extra data" and _is_json_lines(text):
            # One object a line, saved as .json: read it as the JSONL it is.
            yield from _json_lines(text, origin, mapping)
            return
        yield IngestProblem(origin, _json_error(exc), exc.lineno)
        return
    if isinstance(value, list):
        lines = _element_lines(text, text.index("["), len(value))
        if not value:
            yield IngestProblem(origin, "JSON array holds no records")
        for position, record in enumerate(value):
            yield _record(record, origin=origin, line=lines[position] if lines else None, mapping=mapping, index=position)
        return
    if isinstance(value, dict):
        if _has_field(value, "body", mapping) or _has_field(value, "title", mapping):
            yield _record(value, origin=origin, line=None, mapping=mapping)
            return
        key, records = _records_inside(value)
        if records is None:
            yield IngestProblem(origin, "JSON object is neither an article nor a list of articles (no body or title key)")
            return
        start = _key_array_start(text, key)
        lines = _element_lines(text, start, len(records)) if start is not None else None
        for position, record in enumerate(records):
            yield _record(record, origin=origin, line=lines[position] if lines else None, mapping=mapping, index=position)
        return
    yield IngestProblem(origin, f"expected a JSON object or array, got a {_json_type(value)}")


def _json_error(exc: json.JSONDecodeError) -> str:
    message = re.sub(r"\s+at$", "", exc.msg)
    return f"invalid JSON: {message} at column {exc.colno}"


def _is_json_lines(text: str) -> bool:
    lines = [line for line in text.splitlines() if line.strip()]
    return len(lines) > 1 and all(line.lstrip().startswith("{") for line in lines)


def _json_lines(text: str, origin: str, mapping: dict[str, str]) -> Iterator[Article | IngestProblem]:
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            yield IngestProblem(origin, _json_error(exc), number)
            continue
        yield _record(value, origin=origin, line=number, mapping=mapping)


def _records_inside(value: dict[str, Any]) -> tuple[str, list[Any] | None]:
    """The one list of records in a wrapper object such as `{"articles": [...]}`."""
    lists = [(k, v) for k, v in value.items() if isinstance(v, list) and v and all(isinstance(x, dict) for x in v)]
    if len(lists) != 1:
        return "", None
    return lists[0]


def _key_array_start(text: str, key: str) -> int | None:
    match = re.search(r'"' + re.escape(json.dumps(key)[1:-1]) + r'"\s*:\s*\[', text)
    return match.end() - 1 if match else None


def _element_lines(text: str, start: int, count: int) -> list[int] | None:
    """The line each element of the array opening at `start` begins on (None if unsure)."""
    decoder = json.JSONDecoder()
    lines: list[int] = []
    pos = start + 1
    try:
        for _ in range(count):
            while text[pos] in " \t\r\n,":
                pos += 1
            lines.append(text.count("\n", 0, pos) + 1)
            _, pos = decoder.raw_decode(text, pos)
    except (IndexError, json.JSONDecodeError):
        return None
    return lines


# --- records -> articles -------------------------------------------------------------------


def _norm_key(key: str) -> str:
    return re.sub(r"[\s_\-]+", "", str(key)).casefold()


_NORM_ALIASES = {field: tuple(_norm_key(alias) for alias in aliases) for field, aliases in FIELD_ALIASES.items()}
_ALL_ALIASES = frozenset(alias for aliases in _NORM_ALIASES.values() for alias in aliases)


def _has_field(record: Mapping[str, Any], field: str, mapping: dict[str, str]) -> bool:
    return _field_key(_keys_by_norm(record), record, field, mapping) is not None


def _keys_by_norm(record: Mapping[str, Any]) -> dict[str, str]:
    by_norm: dict[str, str] = {}
    for key in record:
        by_norm.setdefault(_norm_key(key), key)
    return by_norm


def _field_key(by_norm: dict[str, str], record: Mapping[str, Any], field: str, mapping: dict[str, str]) -> str | None:
    """The record's own key for one of our fields: the mapped name first, then the aliases."""
    wanted = ((_norm_key(mapping[field]),) if field in mapping else ()) + _NORM_ALIASES[field]
    for name in wanted:
        key = by_norm.get(name)
        if key is not None and record[key] not in (None, "", [], {}):
            return key
    return None


def _record(
    value: Any,
    *,
    origin: str,
    line: int | None,
    mapping: dict[str, str],
    index: int | None = None,
) -> Article | IngestProblem:
    where = f"{origin}:{line}" if line is not None else origin
    # Without a line number, the record's position in its array still finds it.
    which = f"record #{index}: " if index is not None and line is None else ""
    if not isinstance(value, dict):
        return IngestProblem(origin, f"{which}record is a JSON {_json_type(value)}, not an object", line)
    fields, metadata = _split_fields(value, mapping)
    body = _body_text(fields.get("body"))
    if not body:
        keys = ", ".join(sorted(map(str, value))[:12]) or "none"
        return IngestProblem(origin, f"{which}record has no body text (keys: {keys})", line)
    if index is not None and line is None:
        metadata.setdefault("record_index", index)
    return _article(fields, metadata, body=body, origin=where, date_source="metadata")


def _json_type(value: Any) -> str:
    return {list: "array", str: "string", int: "number", float: "number", bool: "boolean", type(None): "null"}.get(type(value), type(value).__name__)


def _split_fields(record: Mapping[str, Any], mapping: dict[str, str]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(our fields, everything else) for one record; `id` keeps its name in metadata."""
    fields: dict[str, Any] = {}
    used: set[str] = set()
    by_norm = _keys_by_norm(record)
    for field in FIELD_ALIASES:
        key = _field_key(by_norm, record, field, mapping)
        if key is not None:
            fields[field] = record[key]
            used.add(key)
    mapped = {_norm_key(theirs) for theirs in mapping.values()}
    metadata: dict[str, Any] = {}
    for key, value in record.items():
        if key in used:
            continue
        if value in (None, "", [], {}) and (_norm_key(key) in _ALL_ALIASES or _norm_key(key) in mapped):
            continue  # one of our fields, left empty: nothing to keep
        name = "id" if _norm_key(key) == "id" else str(key)
        metadata[name] = _plain(value)
    return fields, metadata


def _article(fields: dict[str, Any], metadata: dict[str, Any], *, body: str, origin: str, date_source: str) -> Article:
    raw_date = fields.get("published_at")
    published_at = to_iso(raw_date)
    if raw_date is not None and published_at is None:
        # Kept so nothing the input said is lost; the index only trusts what it could read.
        metadata["published_raw"] = _plain(raw_date)
    title = _one_line(fields.get("title"))
    if not title:
        title = _title_from_body(body)
        metadata["title_derived"] = True
    url = _one_line(fields.get("url"))
    summary = _one_line(fields.get("summary"))
    if summary and summary not in body:
        # A summary is a standfirst, which readers see above the story: it leads the body.
        body = f"{summary}\n\n{body}"
    return Article(
        title=title,
        body=body,
        url=url or None,
        source=_one_line(fields.get("source")) or None,
        published_at=published_at,
        date_source=date_source if published_at else None,  # type: ignore[arg-type]
        author=_one_line(fields.get("author")) or None,
        category=_one_line(fields.get("category")) or None,
        summary=summary or None,
        origin=origin,
        metadata=metadata,
    )


def _body_text(value: Any) -> str:
    if isinstance(value, list):
        parts = [_body_text(item) for item in value]
        return "\n\n".join(part for part in parts if part)
    if isinstance(value, dict):
        return _body_text(value.get("text") or value.get("content") or value.get("body"))
    if not isinstance(value, str):
        return ""
    text = value.replace("\r\n", "\n").replace("\r", "\n")
    if _HTML_IN_TEXT.search(text):
        text = fragment_text(text)
    return _paragraphs(text)


# An interview turn opened by its speaker run together ("((ShimonPeres)) The future is ..."),
# as Wikinews transcripts write it: the name is spelled apart so a question naming "Shimon
# Peres" finds the turn. "McGuire" and "MacKenzie" stay whole; "MarioJLucero" keeps its initial.
_SPEAKER_TAG = re.compile(r"^\(\(([A-Za-z]+)\)\)")
_NAME_JOIN = re.compile(r"(?<=[a-z])(?<!Mc)(?<!Mac)(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


def _speaker_apart(line: str) -> str:
    return _SPEAKER_TAG.sub(lambda m: "((" + _NAME_JOIN.sub(" ", m.group(1)) + "))", line)


def _paragraphs(text: str) -> str:
    """Text with paragraphs separated by one blank line and no stray whitespace."""
    blocks: list[str] = []
    current: list[str] = []
    for line in text.split("\n"):
        line = line.strip()
        if "  " in line or "\t" in line:
            line = _SPACES.sub(" ", line)
        if line.startswith("(("):
            line = _speaker_apart(line)
        if line:
            current.append(line)
        elif current:
            blocks.append("\n".join(current))
            current = []
    if current:
        blocks.append("\n".join(current))
    return "\n\n".join(blocks)


def _one_line(value: Any) -> str:
    """A short field (title, author, source) as one line of text."""
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(part for part in (_one_line(item) for item in value) if part)
    if isinstance(value, dict):
        for key in ("name", "title", "url", "href", "value", "text"):
            if value.get(key):
                return _one_line(value[key])
        return ""
    if isinstance(value, (str, int, float)) and not isinstance(value, bool):
        text = str(value)
        if _HTML_IN_TEXT.search(text):
            text = fragment_text(text)
        return re.sub(r"\s+", " ", text).strip()
    return ""


def _title_from_body(body: str) -> str:
    first = body.split("\n", 1)[0]
    sentence = re.split(r"(?<=[.!?])\s", first, maxsplit=1)[0]
    if len(sentence) <= 120:
        return sentence
    return sentence[:117].rsplit(" ", 1)[0] + "..."


def _plain(value: Any) -> Any:
    """A metadata value that JSON can hold (YAML front matter brings dates)."""
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


# --- text, Markdown, HTML ------------------------------------------------------------------


def _text_article(text: str, origin: str, *, markdown: bool) -> Article | IngestProblem:
    text = text.replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff")
    fields: dict[str, Any] = {}
    metadata: dict[str, Any] = {"format": "markdown" if markdown else "text"}
    front = _FRONT_MATTER.match(text)
    if front:
        try:
            matter = yaml.safe_load(front.group(1))
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            line = mark.line + 2 if mark is not None else None  # +1 for 1-based, +1 for the "---"
            return IngestProblem(origin, f"invalid front matter: {getattr(exc, 'problem', None) or exc}", line)
        if matter is not None and not isinstance(matter, dict):
            return IngestProblem(origin, "front matter is not a mapping of keys to values", 2)
        fields, extra = _split_fields(matter or {}, {})
        metadata.update(extra)
        text = text[front.end() :]

    blocks = [block for block in re.split(r"\n\s*\n", text.strip()) if block.strip()]
    if markdown:
        blocks = [_markdown_plain(block) for block in blocks]
        blocks = [block for block in blocks if block]
    if fields.get("title") and blocks and normalize_body(_one_line(fields["title"])) == normalize_body(blocks[0]):
        blocks = blocks[1:]  # the page heading repeats the front matter's title
    elif not fields.get("title") and blocks:
        first, _, rest = blocks[0].strip().partition("\n")
        # A title is a short first line: its own block, or a line with no sentence ending.
        if len(first) <= _TITLE_MAX_CHARS and ((not rest and len(blocks) > 1) or (rest and not _SENTENCE_END.search(first))):
            fields["title"] = first.lstrip("#").strip()
            blocks = ([rest] if rest.strip() else []) + blocks[1:]
    paragraphs = [p for block in blocks for p in _block_paragraphs(block)]
    if not fields.get("title") and len(paragraphs) == 1 and not _SENTENCE_END.search(paragraphs[0]):
        return IngestProblem(origin, "no body text (only a title)")
    author, byline_date, paragraphs = take_byline(paragraphs)
    body = "\n\n".join(p for p in paragraphs if p)
    if not body:
        return IngestProblem(origin, "no body text" + (" (only a title)" if fields.get("title") else ""))
    if author and not fields.get("author"):
        fields["author"] = author
    date_source = "metadata"
    if not fields.get("published_at") and byline_date:
        fields["published_at"] = byline_date
        date_source = "byline"
    return _article(fields, metadata, body=body, origin=origin, date_source=date_source)


def _block_paragraphs(block: str) -> list[str]:
    """A block's paragraphs: hard-wrapped lines join up; a line ending a sentence ends one."""
    paragraphs: list[str] = []
    current: list[str] = []
    for line in block.splitlines():
        line = re.sub(r"[ \t]+", " ", line).strip()
        if not line:
            continue
        current.append(line)
        if _SENTENCE_END.search(line):
            paragraphs.append(" ".join(current))
            current = []
    if current:
        paragraphs.append(" ".join(current))
    return paragraphs


def _markdown_plain(block: str) -> str:
    """A Markdown block as the plain text a reader sees (links, emphasis and marks removed).

    Every pattern is bounded and excludes its own delimiters, so a hostile file ("[[[[...")
    costs linear time, not quadratic.
    """
    text = re.sub(r"!\[([^\[\]\n]{0,500})\]\([^()\n]{0,2000}\)", r"\1", block)
    text = re.sub(r"\[([^\[\]\n]{1,500})\]\([^()\n]{0,2000}\)", r"\1", text)
    text = re.sub(r"(?m)^ {0,3}#{1,6}[ \t]+", "", text)
    text = re.sub(r"(?m)^ {0,3}>[ \t]?", "", text)
    text = re.sub(r"(\*\*|__)(?=[^\s*_])([^*_\n]{1,500}?)(?<=\S)\1", r"\2", text)
    text = re.sub(r"(?<![\w*])\*(?=[^\s*])([^*\n]{1,500}?)(?<=\S)\*(?![\w*])", r"\1", text)
    text = re.sub(r"`([^`\n]{1,500})`", r"\1", text)
    if re.fullmatch(r"[ \t]*([-*_])(?:[ \t]*\1){2,}[ \t]*", text):
        return ""  # a horizontal rule
    return text.strip()


def _html_article(text: str, origin: str) -> Article | IngestProblem:
    article = article_from_html(text, origin=origin)
    return article if article is not None else IngestProblem(origin, "no article text found in the HTML page")
