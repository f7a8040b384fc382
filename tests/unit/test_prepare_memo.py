"""The prepare step's memo: a copy takes the fingerprint and enrichment computed for an earlier
article with the same title, text and language, and the result is byte for byte what computing
them again gives (its own id, URL key and dates included)."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from pipeline.errors import ConfigError
from pipeline.evaluation import bench_corpus
from pipeline.processor import Processor, RawMessage
from pipeline.settings import Settings

STORY = (
    "Ferry crews in Keswin walked out on Tuesday over the new timetable, the harbour board said. "
    "Maria Okafor, who chairs the board, said talks would resume on Friday in Portmarren. "
    "The strike began on March 2, 2026 and has stranded about 400 passengers."
)


def _doc(i: int, **changes: Any) -> dict[str, Any]:
    doc = {
        "id": f"copy-{i}",
        "url": f"https://outlet{i}.example/news/ferry",
        "source": f"outlet{i}.example",
        "title": "Ferry crews strike over timetable",
        "content": STORY,
        "content_type": "text/plain",
        "published_at": "2026-03-04T09:00:00Z",
    }
    doc.update(changes)
    return doc


def _prepared(
    docs: list[dict[str, Any]], settings: Settings, batch: int = 32
) -> tuple[list[bytes], Processor]:
    proc = Processor(settings)
    msgs = [RawMessage(orjson.dumps(d), None, "raw", 0, i) for i, d in enumerate(docs)]
    out: list[bytes] = []
    for start in range(0, len(msgs), batch):
        prepared, dead = proc.prepare_batch(msgs[start : start + batch])
        assert dead == []
        out.extend(_stable(p.to_bytes()) for _, p in prepared)
    return out, proc


def _stable(data: bytes) -> bytes:
    """The prepared message without the clock: an undated article counts as published when it is
    prepared, which differs between two runs with or without the memo."""
    doc = orjson.loads(data)
    if doc["article"]["published_at"] is None:
        del doc["published_ts"]
        return orjson.dumps(doc)
    return data


@pytest.mark.parametrize("entities", [True, False])
def test_memo_gives_what_computing_gives_on_a_corpus_with_copies(entities: bool) -> None:
    # the benchmark corpus (synthetic here: no shared data needed) has exact copies and reprints
    docs = bench_corpus.build(240, None)
    on, proc = _prepared(docs, Settings(entities=entities, prepare_memo=4096))
    off, plain = _prepared(docs, Settings(entities=entities, prepare_memo=0))
    assert len(on) == len(off) == len(docs)
    for a, b in zip(on, off, strict=True):
        assert a == b
    copies = sum(d["bench_kind"] in ("exact", "reprint") for d in docs)
    assert proc.preparer.memo.hits >= copies * 0.9  # reprints whose chrome is removed clean the same
    assert plain.preparer.memo.hits == 0 and len(plain.preparer.memo) == 0


def test_copy_keeps_its_own_id_url_key_and_dates() -> None:
    docs = [
        _doc(0),
        _doc(1),  # same day: dates reused
        _doc(2, published_at="2026-03-11T09:00:00Z"),  # a week later: "Tuesday" is another day
        _doc(3, published_at=None),  # no publish date: relative dates unresolved
        _doc(4, title="Ferry crews strike over the timetable"),  # another title: computed
    ]
    for batch in (1, 5):  # the memo across batches, and copies within one batch
        on, proc = _prepared(docs, Settings(), batch=batch)
        off, _ = _prepared(docs, Settings(prepare_memo=0), batch=batch)
        assert on == off
        assert proc.preparer.memo.hits == 3
        parsed = [orjson.loads(b) for b in on]
        assert [p["enrichment"]["article_id"] for p in parsed] == [d["id"] for d in docs]
        assert len({p["signature"] for p in parsed}) == 5  # the URL key differs
        days = [[d["date"] for d in p["enrichment"]["dates"]] for p in parsed]
        assert days[0] == days[1] and days[0] != days[2]
        assert "2026-03-03" in days[0] and "2026-03-10" in days[2]


def test_memo_is_bounded_and_least_recently_used_goes_first() -> None:
    docs = [_doc(i, title=f"Title {i}") for i in range(3)]
    _, proc = _prepared(docs, Settings(prepare_memo=2), batch=1)
    memo = proc.preparer.memo
    assert len(memo) == 2 and memo.misses == 3
    # the first article was evicted, the last two are kept
    again, _ = _prepared(docs, Settings(prepare_memo=2), batch=3)
    assert len(again) == 3
    before = memo.hits
    proc.prepare_batch([RawMessage(orjson.dumps(docs[2]), None, "raw", 0, 9)])
    assert memo.hits == before + 1
    proc.prepare_batch([RawMessage(orjson.dumps(docs[0]), None, "raw", 0, 10)])
    assert memo.hits == before + 1 and len(memo) == 2


def test_negative_memo_size_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="PIPELINE_PREPARE_MEMO"):
        Settings.from_env({"PIPELINE_PREPARE_MEMO": "-1"})


def test_memo_is_bounded_in_bytes_as_well() -> None:
    from pipeline.prepare import Memo, _estimated_bytes

    docs = [_doc(i, title=f"Title {i}") for i in range(6)]
    proc = Processor(Settings(prepare_memo=100))
    msgs = [RawMessage(orjson.dumps(d), None, "raw", 0, i) for i, d in enumerate(docs)]
    prepared, dead = proc.prepare_batch(msgs)
    assert not dead
    entries = [(p.signature, p.enrichment) for _, p in prepared]
    weight = max(_estimated_bytes(*e) for e in entries)
    memo = Memo(1000, max_bytes=weight * 70)  # room for about 70 entries, far fewer than 1000
    for i in range(300):
        memo.put(i, None, *entries[i % 6])
        assert memo.bytes <= memo.max_bytes
    assert 60 <= len(memo) <= 75 and memo.get(299) is not None and memo.get(0) is None
    tiny = Memo(100, max_bytes=64 * (weight - 1))  # one entry alone is over 1/64 of the budget
    tiny.put(1, None, *entries[0])
    assert len(tiny) == 0 and tiny.bytes == 0
    # a text full of dates weighs more than a plain one
    dated = Processor(Settings(prepare_memo=0)).prepare_batch(
        [RawMessage(orjson.dumps(_doc(9, content="It rained on Tuesday. " * 400)), None, "raw", 0, 0)]
    )[0][0][1]
    assert _estimated_bytes(dated.signature, dated.enrichment) > 8 * weight  # 400 dates


def test_clean_memo_cleans_a_content_once_and_gives_what_cleaning_gives() -> None:
    page = (
        "<html lang='en'><head><title>Ferry crews strike</title>"
        "<meta property='article:published_time' content='2026-03-04T08:00:00Z'>"
        "</head><body><article><h1>Ferry crews strike</h1>"
        f"<p>{STORY}</p><p>{STORY}</p></article></body></html>"
    )
    docs = [
        _doc(0),
        _doc(1, published_at=None),  # the same text under another id, URL and date
        _doc(2, content=page, content_type="text/html", published_at=None, url="https://a.example/x"),
        # the same page at the same URL, with the raw record's own date, language and authors
        _doc(
            3, content=page, content_type="text/html", url="https://a.example/x", language="en", authors=["X"]
        ),
        _doc(4, content=page, content_type="text/html", url="https://b.example/y"),  # another URL: cleaned
        _doc(5, content=f"{STORY} Ferry.", title=None),  # another text
    ]
    on, proc = _prepared(docs, Settings(), batch=2)
    off, plain = _prepared(docs, Settings(prepare_memo=0), batch=2)
    assert on == off
    memo = proc.preparer.clean_memo
    assert (memo.hits, memo.misses, len(memo)) == (2, 4, 4)
    assert len(plain.preparer.clean_memo) == 0
    parsed = [orjson.loads(b)["article"] for b in on]
    assert [p["id"] for p in parsed] == [d["id"] for d in docs]
    assert parsed[2]["published_at"] == "2026-03-04T08:00:00Z"  # found in the page
    assert parsed[3]["published_at"] == "2026-03-04T09:00:00Z"  # the raw record's own wins
    assert parsed[3]["authors"] == ["X"] and parsed[2]["authors"] != ["X"]


def test_clean_memo_keeps_no_failure_and_is_bounded() -> None:
    from pipeline.clean import CleanContent
    from pipeline.prepare import CleanMemo

    proc = Processor(Settings())
    empty = [_doc(i, content="Share this. Follow us.", title="Menu") for i in range(2)]
    _, dead = proc.prepare_batch(
        [RawMessage(orjson.dumps(d), None, "raw", 0, i) for i, d in enumerate(empty)]
    )
    assert [d["reason"] for d in dead] == ["empty_after_cleaning"] * 2
    assert [d["article_id"] for d in dead] == ["copy-0", "copy-1"]  # each names its own article
    assert len(proc.preparer.clean_memo) == 0

    memo = CleanMemo(3)
    for i in range(5):
        memo.put(i, CleanContent("t", "body " * 10, ()))
    assert len(memo) == 3 and memo.get(0) is None and memo.get(4) is not None
    small = CleanMemo(100, max_bytes=64 * 1000)  # 1,000 bytes of text per entry at most
    small.put(1, CleanContent("t", "x" * 1000, ()))
    assert len(small) == 0
    for i in range(100):
        small.put(i, CleanContent("t", "x" * 200, ()))
        assert small.bytes <= small.max_bytes
    assert len(small) < 100
