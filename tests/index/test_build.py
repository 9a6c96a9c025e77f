"""Building, updating and publishing the index, end to end with the real model, FAISS and SQLite."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from index.build import update_index
from index.embed import load_embedder
from index.errors import IndexMissingError, ModelMismatchError
from index.models import Article
from index.store import IndexReader, current_generation
from tests.conftest import FIXTURES, ROOT, build, make_settings

RELATED_HEADLINE = "Larry Ellison becomes the richest man"


def _article(title: str, body: str, *, url: str | None = None, source: str = "Test Wire", date: str = "2024-03-01") -> Article:
    return Article(title=title, body=body, url=url, source=source, published_at=date, date_source="metadata")


def _paragraphs(topic: str, n: int) -> str:
    return "\n\n".join(
        f"Paragraph {i} about {topic}: the council met on day {i} and discussed budget line {i * 7}, "
        f"with residents raising concerns about the {topic} for the {i}th time this season."
        for i in range(1, n + 1)
    )


def test_seed_page_chunks_keep_the_story_and_drop_the_chrome(seed_index: Path, embedder) -> None:
    reader = IndexReader.open(seed_index)
    try:
        seed = [a for a in reader.latest(100) if a.source == "London Daily"]
        assert len(seed) == 1
        article = seed[0]
        assert article.title.startswith("Future of US military presence in Iraq")
        assert article.published_at == "2025-09-11" and article.date_source == "header"
        assert "Milley" in article.body
        chunks = reader.article_chunks(article.id)
        assert chunks, "the seed article has no chunks"
        assert all(RELATED_HEADLINE not in c.text for c in chunks)
        # The title is in the body once at most (the page repeats it).
        assert article.body.count(article.title) <= 1
    finally:
        reader.close()


def test_every_chunk_fits_the_model_and_its_offsets_point_at_its_text(seed_index: Path, embedder) -> None:
    reader = IndexReader.open(seed_index)
    try:
        checked = 0
        for article_id in reader.article_ids():
            body = reader.article(article_id).body
            for chunk in reader.article_chunks(article_id):
                assert body[chunk.start : chunk.end] == chunk.text
                assert embedder.count_tokens(f"{chunk.title}. {chunk.text}") + 2 <= embedder.max_seq_length
                checked += 1
        assert checked >= 10
    finally:
        reader.close()


def test_long_article_is_split_with_overlap_and_exact_offsets(tmp_path: Path, embedder) -> None:
    body = _paragraphs("harbour bridge", 40)
    settings = make_settings(tmp_path / "idx", chunk_tokens=96, chunk_overlap=24)
    report = update_index(settings.index_dir, embedder=embedder, settings=settings, articles=[_article("Bridge", body)], mode="rebuild")
    reader = IndexReader.open(settings.index_dir)
    chunks = reader.article_chunks(report.article_ids[0])
    assert len(chunks) > 5
    assert all(body[c.start : c.end] == c.text for c in chunks)
    assert all(embedder.count_tokens(c.text) <= 96 for c in chunks)
    assert [c.position for c in chunks] == list(range(len(chunks)))
    # Together the chunks cover the whole body.
    assert chunks[0].start == 0 and chunks[-1].end == len(body.rstrip())
    reader.close()


def test_add_unchanged_is_a_no_op_and_an_edit_replaces_chunks(tmp_path: Path, embedder) -> None:
    settings = make_settings(tmp_path / "idx")
    first = _article("Ferry strike", _paragraphs("ferry strike", 6), url="https://example.org/ferry")
    other = _article("Library opens", _paragraphs("new library", 4), url="https://example.org/library")
    report = update_index(settings.index_dir, embedder=embedder, settings=settings, articles=[first, other], mode="rebuild")
    assert report.added == 2 and report.published
    generation = current_generation(settings.index_dir)
    reader = IndexReader.open(settings.index_dir)
    old_chunk_ids = {c.chunk_id for c in reader.article_chunks(first.id)}
    reader.close()

    again = update_index(settings.index_dir, embedder=embedder, settings=settings, articles=[first, other], mode="add")
    assert (again.unchanged, again.added, again.updated, again.chunks_embedded) == (2, 0, 0, 0)
    assert not again.published and current_generation(settings.index_dir) == generation

    edited = _article("Ferry strike", first.body + "\n\nThe union called off the strike on Friday evening.", url="https://example.org/ferry")
    assert edited.id == first.id
    report = update_index(settings.index_dir, embedder=embedder, settings=settings, articles=[edited], mode="add")
    assert report.updated == 1 and report.published
    reader = IndexReader.open(settings.index_dir)
    chunks = reader.article_chunks(first.id)
    assert "called off the strike" in chunks[-1].text
    assert {c.chunk_id for c in chunks} != old_chunk_ids
    assert reader.stats()["articles"] == 2
    # Only the changed passage was embedded; the rest came from the cache.
    assert report.chunks_cached >= 1 and report.chunks_embedded >= 1
    hits = reader.keyword_search("union called off strike", 3)
    assert hits and hits[0][0] in {c.chunk_id for c in chunks}
    reader.close()


def test_remove_drops_the_article_and_reports_unknown_ids(tmp_path: Path, embedder) -> None:
    settings = make_settings(tmp_path / "idx")
    a = _article("Ferry strike", _paragraphs("ferry strike", 3), url="https://example.org/ferry")
    b = _article("Library opens", _paragraphs("new library", 3), url="https://example.org/library")
    update_index(settings.index_dir, embedder=embedder, settings=settings, articles=[a, b], mode="rebuild")
    report = update_index(settings.index_dir, embedder=embedder, settings=settings, remove=[a.id, "a-nonexistent"], mode="add")
    assert report.removed == 1 and report.missing_ids == ["a-nonexistent"]
    reader = IndexReader.open(settings.index_dir)
    assert reader.article(a.id) is None and reader.article(b.id) is not None
    assert reader.keyword_search("ferry strike", 5) == []
    reader.close()


def test_exact_and_near_duplicates_are_stored_once_and_counted(tmp_path: Path, embedder) -> None:
    settings = make_settings(tmp_path / "idx")
    body = _paragraphs("flood defences", 12)
    original = _article("Flood defences approved", body, url="https://wire.example/flood", source="Wire")
    exact = _article("Flood defences approved", body, url="https://paper.example/flood-copy", source="Paper")
    near_body = body.replace("Paragraph 3 about", "Paragraph three about", 1)
    near = _article("Flood defences get the go-ahead", near_body, url="https://daily.example/flood", source="Daily")
    same_url = _article("Flood defences approved", body + " ", url="https://WIRE.example/flood/?utm_source=x", source="Wire")
    unrelated = _article("Library opens", _paragraphs("new library", 12), url="https://wire.example/library", source="Wire")
    report = update_index(
        settings.index_dir, embedder=embedder, settings=settings, articles=[original, exact, near, same_url, unrelated], mode="rebuild"
    )
    kinds = sorted(d["kind"] for d in report.duplicates)
    assert kinds == ["exact", "near", "same-url"]
    assert report.added == 2
    reader = IndexReader.open(settings.index_dir)
    stats = reader.stats()
    assert stats["articles"] == 2 and stats["duplicates"] == 2
    copies = reader.copies([original.id])[original.id]
    assert {c["source"] for c in copies} == {"Paper", "Daily"}
    reader.close()


def test_rebuild_of_unchanged_corpus_reuses_the_cache(tmp_path: Path, embedder) -> None:
    index_dir = tmp_path / "idx"
    first = build(index_dir, [ROOT / "corpus", FIXTURES / "news"], embedder)
    assert first.chunks_embedded == first.chunks > 0
    second = build(index_dir, [ROOT / "corpus", FIXTURES / "news"], embedder)
    assert second.chunks_embedded == 0 and second.unchanged == first.added
    assert not second.published
    # A new chunk size is a real change: the passages are re-split and re-embedded, the old
    # ones stay in the cache for a switch back.
    third = build(index_dir, [ROOT / "corpus"], embedder, chunk_tokens=64)
    assert third.published and third.chunks_embedded > 0 and third.removed >= 1


def test_malformed_inputs_are_reported_and_skipped(tmp_path: Path, embedder) -> None:
    inputs = tmp_path / "in"
    inputs.mkdir()
    (inputs / "good.md").write_text("---\ntitle: Harbour reopens\ndate: 2024-05-02\n---\nThe harbour reopened on Thursday after repairs.\n")
    (inputs / "bad.jsonl").write_text('{"title": "One", "body": "The first record is fine."}\n{not json\n')
    (inputs / "empty.txt").write_text("")
    (inputs / "blob.json").write_bytes(bytes(range(256)) * 4)
    report = build(tmp_path / "idx", [inputs, tmp_path / "missing-folder"], embedder)
    assert report.added == 2
    reasons = {(Path(p.origin).name, p.line) for p in report.problems}
    assert ("bad.jsonl", 2) in reasons
    assert {"empty.txt", "blob.json", "missing-folder"} <= {Path(p.origin).name for p in report.problems}


def test_a_build_killed_midway_leaves_the_previous_index_serving(tmp_path: Path, embedder) -> None:
    index_dir = tmp_path / "idx"
    build(index_dir, [ROOT / "corpus"], embedder)
    before = current_generation(index_dir)
    marker = tmp_path / "started"
    # A real build in another process, fed by a slow generator so it is surely mid-build when killed.
    script = textwrap.dedent(
        f"""
        import os, time
        os.environ["HF_HUB_OFFLINE"] = "1"
        from pathlib import Path
        from index.build import update_index
        from index.embed import load_embedder
        from index.models import Article
        from tests.conftest import make_settings
        settings = make_settings(Path({str(index_dir)!r}))
        def slow():
            for i in range(1000):
                yield Article(title=f"Story {{i}}", body=f"Body of story number {{i}} about the harbour.", source="Slow")
                if i == 3:
                    Path({str(marker)!r}).touch()
                time.sleep(0.05)
        update_index(settings.index_dir, embedder=load_embedder(settings.model, backend=settings.embed_backend, cache_dir=settings.model_cache_dir), settings=settings, articles=slow(), mode="add")
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        deadline = time.monotonic() + 120
        while not marker.exists():
            assert proc.poll() is None, "the build process died before it started writing"
            assert time.monotonic() < deadline, "the build never started"
            time.sleep(0.05)
        partial = [p for p in (index_dir / "generations").iterdir() if (p / ".building").exists()]
        assert partial, "no generation was being written"
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    assert current_generation(index_dir) == before
    reader = IndexReader.open(index_dir)
    reader.check_model(embedder)
    assert reader.stats()["articles"] == 1
    assert reader.keyword_search("Milley letter mistake", 3)
    reader.close()
    # The next writer clears the half-written generation away.
    report = build(index_dir, [ROOT / "corpus"], embedder)
    assert not report.published
    assert not [p for p in (index_dir / "generations").iterdir() if (p / ".building").exists()]


def test_opening_an_index_with_another_model_is_refused(tmp_path: Path, embedder, seed_index: Path) -> None:
    # A real second model: the bundled weights with another max_seq_length are another configuration.
    other = tmp_path / "other-model"
    shutil.copytree(embedder.location, other)
    config = json.loads((other / "sentence_bert_config.json").read_text())
    config["max_seq_length"] = 128
    (other / "sentence_bert_config.json").write_text(json.dumps(config))
    other_embedder = load_embedder(str(other), backend=embedder.backend, cache_dir=tmp_path / "models")
    assert other_embedder.fingerprint != embedder.fingerprint
    reader = IndexReader.open(seed_index)
    with pytest.raises(ModelMismatchError, match="newsbot index build"):
        reader.check_model(other_embedder)
    reader.close()
    settings = make_settings(seed_index)
    with pytest.raises(ModelMismatchError, match="rebuild"):
        update_index(seed_index, embedder=other_embedder, settings=settings, articles=[_article("x", "y z")], mode="add")


def test_missing_index_says_how_to_build(tmp_path: Path) -> None:
    with pytest.raises(IndexMissingError, match="newsbot index build"):
        IndexReader.open(tmp_path / "nothing-here")


@pytest.mark.parametrize("kind", ["hnsw", "sq8"])
def test_other_faiss_index_types_search_the_same_passages(tmp_path: Path, embedder, kind: str) -> None:
    articles = [_article(f"Story {t}", _paragraphs(t, 3), url=f"https://x.example/{i}") for i, t in enumerate(["ferry", "library", "flood", "election"])]
    settings = make_settings(tmp_path / kind, faiss_index=kind)
    update_index(settings.index_dir, embedder=embedder, settings=settings, articles=articles, mode="rebuild")
    reader = IndexReader.open(settings.index_dir)
    assert reader.stats()["index_type"] == kind
    hits = reader.dense_search(embedder.encode_query("flood"), 3)
    assert reader.chunks([hits[0][0]])[0].title == "Story flood"
    reader.close()


@pytest.mark.wikinews
def test_build_of_the_whole_wikinews_sample(wikinews_index: Path, embedder) -> None:
    reader = IndexReader.open(wikinews_index)
    stats = reader.stats()
    # 370 records; a few may be stored once as duplicates of another.
    assert stats["articles"] + stats["duplicates"] == 370
    assert stats["chunks"] > stats["articles"]
    assert stats["first_published"] == "2004-11-13" and stats["last_published"] == "2023-02-23"
    assert [s["name"] for s in reader.sources()] == ["Wikinews"]
    # The dataset's own id is kept as metadata, so evaluation can match gold ids.
    sample = reader.article(reader.article_ids()[0])
    assert sample.metadata.get("id", "").startswith("wn-")
    reader.close()


def test_chunk_ids_are_exact_in_javascript(seed_index: Path) -> None:
    reader = IndexReader.open(seed_index)
    try:
        ids = [c.chunk_id for aid in reader.article_ids() for c in reader.article_chunks(aid)]
        assert ids and all(0 <= i < 2**53 for i in ids)
        assert len(set(ids)) == len(ids)
    finally:
        reader.close()


def test_near_duplicates_just_above_the_threshold_are_found(tmp_path: Path, embedder) -> None:
    settings = make_settings(tmp_path / "idx")
    from index.build import _minhash

    words = _paragraphs("harbour dredging", 20).split(" ")
    found = 0
    for trial in range(3):
        # Four words changed in ~580: each touches 5 shingles, so similarity lands at 0.90-0.93,
        # where LSH banding tuned at 0.9 itself misses most pairs.
        changed = [w + "x" if i in [50 + trial + k * 130 for k in range(4)] else w for i, w in enumerate(words)]
        similarity = _minhash(" ".join(words)).jaccard(_minhash(" ".join(changed)))
        assert 0.9 <= similarity <= 0.935, similarity
        original = _article(f"Dredging {trial}", " ".join(words) + f" Trial {trial}.", url=f"https://a.example/{trial}")
        copy = _article(f"Dredging {trial} (wire)", " ".join(changed) + f" Trial {trial}.", url=f"https://b.example/{trial}")
        report = update_index(settings.index_dir, embedder=embedder, settings=settings, articles=[original, copy], mode="rebuild")
        found += any(d["kind"] == "near" and d["similarity"] >= 0.9 for d in report.duplicates)
    assert found == 3
