"""Files and folders -> articles: every format, odd key names, and bad input reported, not raised."""

from __future__ import annotations

import json
import os
import random
import time
import shutil
from pathlib import Path

import pytest

from index.ingest import iter_articles
from index.models import Article, IngestProblem

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "ingest"
PAGES = ROOT / "tests" / "fixtures" / "pages"
SEED = ROOT / "corpus" / "london-daily-iraq.txt"


def _split(items: list[Article | IngestProblem]) -> tuple[list[Article], list[IngestProblem]]:
    articles = [item for item in items if isinstance(item, Article)]
    problems = [item for item in items if isinstance(item, IngestProblem)]
    assert len(articles) + len(problems) == len(items)
    return articles, problems


def _by_title(articles: list[Article]) -> dict[str, Article]:
    return {article.title: article for article in articles}


# --- formats -----------------------------------------------------------------------------


def test_jsonl_keys_matched_case_insensitively_and_unknown_keys_kept() -> None:
    path = FIXTURES / "records.jsonl"
    articles, problems = _split(list(iter_articles([path])))
    assert [a.title for a in articles] == ["Tram drivers accept new rota", "Allotment waiting list halves", "Choir sings at the station"]

    tram = articles[0]
    assert tram.origin == f"{path}:1"
    assert tram.body == "Tram drivers voted on Friday to accept a new rota that ends split shifts.\n\nThe union said nine in ten members backed the deal."
    assert (tram.published_at, tram.date_source) == ("2025-03-07T16:20:00+00:00", "metadata")
    assert tram.url == "https://news.example.org/trams/rota?utm_source=feed"
    assert (tram.source, tram.author, tram.category) == ("Example City News", "Sam Okafor", "Transport")
    assert tram.metadata == {"id": "rec-001", "wordcount": 27, "Tags": ["trams", "unions"]}

    allotments, choir = articles[1], articles[2]
    assert (allotments.origin, allotments.published_at, allotments.source) == (f"{path}:2", "2025-03-08", "Example City News")
    assert (choir.origin, choir.published_at) == (f"{path}:7", "2025-03-09")
    assert choir.metadata == {"kind": "feature"}

    reported = {(p.origin, p.line): p.reason for p in problems}
    assert set(reported) == {(str(path), 3), (str(path), 4), (str(path), 6)}
    assert reported[(str(path), 3)].startswith("invalid JSON")
    assert "no body" in reported[(str(path), 4)]
    assert "not an object" in reported[(str(path), 6)]


def test_json_array_records_have_their_line_numbers() -> None:
    path = FIXTURES / "array.json"
    articles, problems = _split(list(iter_articles([path])))
    wall, lifeboat = articles
    assert wall.origin == f"{path}:2" and lifeboat.origin == f"{path}:9"
    assert wall.title == "Harbour wall repairs finish early"
    assert (wall.published_at, wall.url, wall.source) == ("2025-04-02T08:15:00+01:00", "https://coast.example.net/harbour-wall", "Coast Example")
    # A body given as a list of paragraphs keeps them as paragraphs.
    assert lifeboat.body == "The lifeboat crew rescued two kayakers off Gull Point on Saturday.\n\nBoth were unhurt."
    assert lifeboat.published_at == "2025-04-05"
    assert [(p.line, "no body" in p.reason) for p in problems] == [(16, True)]


def test_json_single_object_and_wrapper_object() -> None:
    single = FIXTURES / "single.json"
    wrapped = FIXTURES / "wrapped.json"
    articles, problems = _split(list(iter_articles([single, wrapped])))
    assert problems == []
    bakery, bus = articles
    assert bakery.origin == str(single)
    assert (bakery.title, bakery.published_at, bakery.category) == ("Bakery wins bread award", "2025-06-11T09:30:00", "Food")
    assert bakery.metadata == {"newsletter": False}

    assert bus.origin == f"{wrapped}:5"
    assert (bus.source, bus.author, bus.published_at) == ("Valley Example", "Mira Holt", "2025-05-01T06:00:00+00:00")
    # The HTML fragment in "content" becomes paragraphs; the description leads as standfirst.
    assert bus.summary == "Volunteers will drive the route on weekends."
    assert bus.body.split("\n\n") == [
        "Volunteers will drive the route on weekends.",
        "The number 9 bus route will keep running after volunteers offered to drive it on weekends.",
        "The county had planned to cut it in June.",
    ]


def test_field_map_names_other_keys() -> None:
    path = FIXTURES / "mapped.jsonl"
    _, problems = _split(list(iter_articles([path])))
    assert [p.reason for p in problems] == ["record has no body text (keys: headline_text, story_text, when)"]

    mapping = {"body": "story_text", "title": "HEADLINE_TEXT", "published_at": "when"}
    articles, problems = _split(list(iter_articles([path], field_map=mapping)))
    assert problems == []
    (museum,) = articles
    assert museum.title == "Museum opens a night gallery"
    assert museum.body.startswith("The city museum will open its upper gallery")
    assert museum.published_at == "2025-04-20"
    assert museum.metadata == {}


def test_field_map_with_an_unknown_field_is_refused_before_reading() -> None:
    with pytest.raises(ValueError, match="unknown field 'bodytext'"):
        iter_articles([FIXTURES], field_map={"bodytext": "story"})


def test_markdown_with_front_matter() -> None:
    path = FIXTURES / "market.md"
    (article,) = list(iter_articles([path]))
    assert isinstance(article, Article)
    assert article.title == "Night market returns to the square"
    assert (article.published_at, article.date_source) == ("2025-06-14", "metadata")
    assert (article.url, article.source, article.author) == ("https://town.example.org/night-market", "Town Example", "Lea Brandt")
    assert article.metadata["tags"] == ["markets", "food"]
    # Markdown marks are gone and the heading that repeats the title is not body text.
    assert article.body == (
        "The night market returns to the square on Saturday with forty stalls, the town council said.\n\n"
        "Stalls open at six and close at midnight."
    )


def test_markdown_heading_title_and_byline_date() -> None:
    (article,) = list(iter_articles([FIXTURES / "footpath.markdown"]))
    assert isinstance(article, Article)
    assert article.title == "Footpath along the river reopens"
    assert (article.author, article.published_at, article.date_source) == ("Tom Reyes", "2025-03-03", "byline")
    assert article.body.startswith("The riverside footpath reopened on Monday")
    assert "Tom Reyes" not in article.body


def test_plain_text_title_line_and_paragraphs() -> None:
    (article,) = list(iter_articles([FIXTURES / "note.txt"]))
    assert isinstance(article, Article)
    assert article.title == "Library lends out telescopes"
    assert article.published_at is None and article.date_source is None
    assert article.body.split("\n\n") == [
        "The town library now lends telescopes for two weeks at a time, with a star chart in every case.",
        "Borrowers need a library card and must be over sixteen.",
    ]


def test_html_page_through_trafilatura() -> None:
    (article,) = list(iter_articles([FIXTURES / "page.html"]))
    assert isinstance(article, Article)
    assert article.title == "Swimming pool reopens after refit"
    assert (article.published_at, article.date_source) == ("2025-07-19", "metadata")
    assert (article.source, article.author, article.url) == ("Riverside Example", "Ana Ruiz", "https://riverside.example.com/pool-reopens")
    assert article.body.startswith("The public swimming pool on Quay Street reopened on Saturday")
    assert "free passes for the summer" in article.body
    for chrome in ("Home", "Most read", "Road closed", "Copyright"):
        assert chrome not in article.body


def test_scraped_page_txt_is_detected_by_its_shape() -> None:
    (seed,) = list(iter_articles([SEED]))
    assert isinstance(seed, Article)
    assert (seed.source, seed.published_at, seed.date_source) == ("London Daily", "2025-09-11", "header")
    assert "Milley" in seed.body and "Larry Ellison" not in seed.body
    assert seed.metadata["format"] == "scraped_page"
    (plain,) = list(iter_articles([PAGES / "plain-note.txt"]))
    assert isinstance(plain, Article) and plain.metadata["format"] == "text"
    assert plain.title == "Community garden opens on Elm Street"


def test_folder_walk_is_recursive_sorted_and_skips_hidden(tmp_path: Path) -> None:
    (tmp_path / "b").mkdir()
    (tmp_path / "a" / "deeper").mkdir(parents=True)
    (tmp_path / ".git").mkdir()
    shutil.copy(FIXTURES / "note.txt", tmp_path / "b" / "note.txt")
    shutil.copy(FIXTURES / "market.md", tmp_path / "a" / "deeper" / "market.md")
    shutil.copy(FIXTURES / "single.json", tmp_path / "a" / "single.json")
    (tmp_path / ".git" / "HEAD.txt").write_text("Not news\n\nA hidden folder.\n")
    (tmp_path / "b" / ".draft.md").write_text("Draft\n\nA hidden file.\n")

    articles, problems = _split(list(iter_articles([tmp_path])))
    assert problems == []
    assert [Path(a.origin).relative_to(tmp_path).as_posix() for a in articles] == [
        "a/single.json",
        "a/deeper/market.md",
        "b/note.txt",
    ]


# --- bad input -------------------------------------------------------------------------


@pytest.fixture()
def messy_folder(tmp_path: Path) -> Path:
    """Good files mixed with every kind of bad one."""
    rng = random.Random(7)
    shutil.copy(FIXTURES / "note.txt", tmp_path / "good-note.txt")
    shutil.copy(FIXTURES / "records.jsonl", tmp_path / "good-records.jsonl")
    (tmp_path / "empty.txt").write_bytes(b"")
    (tmp_path / "whitespace.md").write_bytes(b"  \n\n\t\n")
    (tmp_path / "random-bytes.txt").write_bytes(bytes(rng.randrange(256) for _ in range(4096)))
    (tmp_path / "zeros.json").write_bytes(b"\x00" * 512)
    (tmp_path / "binary.jsonl").write_bytes(b"\x00\x01\x02\x03" * 64)
    (tmp_path / "picture.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64)
    (tmp_path / "truncated.json").write_text('[{"title": "Cut", "body": "cut off', encoding="utf-8")
    (tmp_path / "scalar.json").write_text("42", encoding="utf-8")
    (tmp_path / "bad-front-matter.md").write_text("---\ntitle: [never closed\ndate: 2025-01-01\n---\nText.\n", encoding="utf-8")
    (tmp_path / "title-only.txt").write_text("Just a headline\n", encoding="utf-8")
    (tmp_path / "empty-page.html").write_text("<html><body><nav>Home</nav></body></html>", encoding="utf-8")
    lines = [
        json.dumps({"title": "Good line", "body": "A good record among bad ones."}),
        '{"title": "no closing brace"',
        json.dumps({"title": "No body here"}),
        "not json at all",
        json.dumps({"title": "Another good line", "text": "Still read after the bad lines."}),
    ]
    (tmp_path / "mixed.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    # Text in other encodings: Windows-1252 and UTF-16 with a byte order mark.
    (tmp_path / "windows.txt").write_bytes(
        "Café owners protest the new rent rules\n\nThe owners of the cafés say the rules — which double the rent — will close them. “We can’t pay,” said one.\n".encode("cp1252")
    )
    (tmp_path / "utf16.md").write_bytes("# Señora Ruiz wins the river race\n\nThe señora won the ten-kilometre race on Sunday.\n".encode("utf-16"))
    latin_line = json.dumps({"title": "Zürich tram fares fall", "body": "Fares on Zürich trams fall in May."}, ensure_ascii=False)
    (tmp_path / "latin1.jsonl").write_bytes(latin_line.encode("latin-1") + b"\n")
    return tmp_path


def test_bad_files_are_reported_and_good_ones_still_load(messy_folder: Path) -> None:
    items = list(iter_articles([messy_folder, messy_folder / "missing.json"]))
    articles, problems = _split(items)

    def reason(name: str, line: int | None = None) -> str:
        found = [p for p in problems if p.origin == str(messy_folder / name) and p.line == line]
        assert len(found) == 1, (name, line, problems)
        return found[0].reason

    assert reason("empty.txt") == "empty file"
    assert reason("whitespace.md") == "empty file"
    assert reason("random-bytes.txt") == "binary file, not text"
    assert reason("zeros.json") == "binary file, not text"
    assert reason("binary.jsonl") == "binary file, not text"
    assert reason("picture.png") == "unsupported file type '.png'"
    assert reason("truncated.json", 1).startswith("invalid JSON")
    assert reason("scalar.json") == "expected a JSON object or array, got a number"
    assert reason("bad-front-matter.md", 3).startswith("invalid front matter")
    assert reason("title-only.txt") == "no body text (only a title)"
    assert reason("empty-page.html") == "no article text found in the HTML page"
    assert reason("mixed.jsonl", 2).startswith("invalid JSON")
    assert reason("mixed.jsonl", 3).startswith("record has no body text")
    assert reason("mixed.jsonl", 4).startswith("invalid JSON")
    assert reason("missing.json") == "no such file or folder"
    assert reason("good-records.jsonl", 3).startswith("invalid JSON")
    assert len(problems) == 18
    assert all(str(p).startswith(p.origin) for p in problems)

    titles = {a.title for a in articles}
    assert titles == {
        "Library lends out telescopes",
        "Tram drivers accept new rota",
        "Allotment waiting list halves",
        "Choir sings at the station",
        "Good line",
        "Another good line",
        "Café owners protest the new rent rules",
        "Señora Ruiz wins the river race",
        "Zürich tram fares fall",
    }
    by_title = _by_title(articles)
    assert by_title["Another good line"].origin == f"{messy_folder / 'mixed.jsonl'}:5"
    assert "“We can’t pay,” said one." in by_title["Café owners protest the new rent rules"].body
    assert by_title["Café owners protest the new rent rules"].metadata["encoding"] != "utf-8"
    assert by_title["Señora Ruiz wins the river race"].body == "The señora won the ten-kilometre race on Sunday."
    assert by_title["Zürich tram fares fall"].body == "Fares on Zürich trams fall in May."


def test_unreadable_and_special_files_are_reported(tmp_path: Path) -> None:
    shutil.copy(FIXTURES / "note.txt", tmp_path / "b-good.txt")
    (tmp_path / "a-dangling.txt").symlink_to(tmp_path / "gone.txt")
    os.mkfifo(tmp_path / "c-pipe.jsonl")  # reading it would block forever
    articles, problems = _split(list(iter_articles([tmp_path])))
    assert [a.title for a in articles] == ["Library lends out telescopes"]
    reasons = {Path(p.origin).name: p.reason for p in problems}
    assert reasons["a-dangling.txt"].startswith("cannot be read: No such file")
    assert reasons["c-pipe.jsonl"] == "not a regular file"
    assert len(problems) == 2


def test_file_without_read_permission_is_reported(tmp_path: Path) -> None:
    locked = tmp_path / "locked.txt"
    locked.write_text("Title\n\nBody.\n", encoding="utf-8")
    locked.chmod(0)
    try:
        if os.access(locked, os.R_OK):
            pytest.skip("running as root, who can read any file: permissions cannot make it unreadable")
        (problem,) = list(iter_articles([locked]))
        assert isinstance(problem, IngestProblem)
        assert problem.reason == "cannot be read: Permission denied"
    finally:
        locked.chmod(0o644)


def test_no_input_can_raise_out(tmp_path: Path) -> None:
    """Arbitrary bytes under every supported extension: each file yields articles or problems."""
    rng = random.Random(1234)
    samples = [
        b"",
        b"\xff\xfe\x00",
        b"{" * 5000,
        b"[" * 100_000,
        b"*" * 100_000,
        b"<p" * 50_000,
        b"[a](" * 30_000,
        b'{"title": 1, "body": {"nested": [1, 2]}}',
        b'[{"body": null}, "x", 3, null, {"text": ["a", {"text": "b"}]}]',
        b"---\n- a\n- b\n---\nBody.\n",
        b"---\n!!python/object:os.system\n---\nBody.\n",
        b"<html><head><title>x</title></head><body>" + b"<div>" * 3000 + b"</body></html>",
        "Title\n\n\u0000\u0001 body".encode(),
    ] + [bytes(rng.randrange(256) for _ in range(rng.randrange(1, 600))) for _ in range(20)]
    suffixes = [".txt", ".md", ".html", ".json", ".jsonl", ""]
    count = 0
    for i, data in enumerate(samples):
        for suffix in suffixes:
            (tmp_path / f"sample{i:02d}{suffix or '_noext'}").write_bytes(data)
            count += 1
    started = time.monotonic()
    items = list(iter_articles([tmp_path]))
    # Hostile files must not cost quadratic time either (a regex on "[[[[..." once took minutes).
    assert time.monotonic() - started < 60
    origins = {item.origin.rsplit(":", 1)[0] if isinstance(item, Article) else item.origin for item in items}
    # Every file was accounted for by at least one article or problem.
    assert origins == {str(p) for p in tmp_path.iterdir()}
    assert len(origins) == count


def test_odd_paths_are_problems_not_exceptions() -> None:
    items = list(iter_articles(["bad\x00name.txt", None, FIXTURES / "note.txt"]))  # type: ignore[list-item]
    assert [type(item).__name__ for item in items] == ["IngestProblem", "IngestProblem", "Article"]
    assert items[1].origin == "None" and items[1].reason == "not a file or folder path"  # type: ignore[union-attr]


def test_an_interview_speaker_run_together_is_spelled_apart(tmp_path: Path) -> None:
    # Wikinews transcripts open each turn with the speaker run together, "((ShimonPeres))";
    # apart, the name is a word a question can match. Tags elsewhere in a line are text.
    body = (
        "Wikinews spoke with the president in Jerusalem.\n\n((Wikinews)) Is there a future to the peace process?\n\n"
        "((ShimonPeres)) The future is only peace.\n\n((HughMcGuire)) Yes.\n\n((MarioJLucero)) Well.\n\n"
        "((WN)) Thank you.\n\nHe quoted ((SomeTag)) inline."
    )
    path = tmp_path / "interview.jsonl"
    path.write_text(json.dumps({"title": "An interview", "body": body}) + "\n", encoding="utf-8")
    (article,) = _split(list(iter_articles([path])))[0]
    assert article.body.split("\n\n")[1:] == [
        "((Wikinews)) Is there a future to the peace process?",
        "((Shimon Peres)) The future is only peace.",
        "((Hugh McGuire)) Yes.",
        "((Mario J Lucero)) Well.",
        "((WN)) Thank you.",
        "He quoted ((SomeTag)) inline.",
    ]
