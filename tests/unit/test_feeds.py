"""Reading feeds and files into raw articles."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from pipeline.api import encode_article
from pipeline.errors import StageError
from pipeline.feeds import read_items, sniff

RSS = b"""<?xml version="1.0" encoding="ISO-8859-1"?>
<rss version="2.0"><channel><title>Valley Courier</title><link>https://courier.example/</link>
<language>de</language>
<item><title>Br\xfccke gesperrt</title><link>https://courier.example/a</link><guid>a-1</guid>
<pubDate>Tue, 03 Mar 2026 10:00:00 GMT</pubDate>
<description>&lt;p&gt;Die alte Br&amp;uuml;cke bleibt bis Montag gesperrt.&lt;/p&gt;</description></item>
<item><title>Markt</title><link>https://courier.example/b</link>
<description>Der Wochenmarkt zieht um.</description></item>
</channel></rss>"""

ATOM = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Harbour Notes</title>
<entry><title>Tide tables</title><id>urn:x:1</id><link href="https://notes.example/1"/>
<updated>2026-03-03T08:00:00Z</updated><author><name>R. Quay</name></author>
<content type="html">&lt;p&gt;New tide tables were published.&lt;/p&gt;</content></entry></feed>"""

JSON_FEED = {
    "version": "https://jsonfeed.org/version/1.1",
    "title": "Lantern",
    "home_page_url": "https://lantern.example/",
    "items": [
        {
            "id": "7",
            "url": "https://lantern.example/7",
            "title": "Night market",
            "content_text": "The night market opens on Friday.",
            "date_published": "2026-03-04T19:00:00Z",
        }
    ],
}


def test_rss_with_declared_charset(tmp_path: Path) -> None:
    p = tmp_path / "feed.xml"
    p.write_bytes(RSS)
    items = list(read_items(p))
    assert [i.doc["title"] for i in items if i.doc] == ["Brücke gesperrt", "Markt"]
    first = items[0].doc
    assert first is not None
    assert first["content_type"] == "text/html" and first["published_at"] == "2026-03-03T10:00:00Z"
    assert first["language"] == "de" and first["source"] == "Valley Courier"
    for item in items:
        assert item.doc is not None
        encode_article(item.doc, 1_000_000)  # schema-valid


def test_atom_and_json_feed(tmp_path: Path) -> None:
    (tmp_path / "a.atom").write_bytes(ATOM)
    (tmp_path / "j.json").write_bytes(orjson.dumps(JSON_FEED))
    [atom] = list(read_items(tmp_path / "a.atom"))
    [jf] = list(read_items(tmp_path / "j.json"))
    assert atom.doc and atom.doc["authors"] == ["R. Quay"] and atom.doc["url"] == "https://notes.example/1"
    assert (
        jf.doc and jf.doc["content_type"] == "text/plain" and jf.doc["published_at"] == "2026-03-04T19:00:00Z"
    )


def test_jsonl_lines_each_judged(tmp_path: Path) -> None:
    p = tmp_path / "in.jsonl"
    p.write_bytes(
        b'{"id": "a", "url": "u", "source": "s", "content": "c", "content_type": "text/plain"}\n'
        b"{broken\n\n[1]\n"
    )
    items = list(read_items(p))
    assert items[0].doc is not None
    assert (items[1].reason, items[2].reason) == ("malformed_json", "schema_invalid")
    assert items[1].where.endswith(":2")


def test_html_and_text_files(tmp_path: Path) -> None:
    (tmp_path / "page.html").write_bytes(
        "<html><head><meta charset='windows-1252'></head><body><p>Caf\xe9 "
        "owners protest</p></body></html>".encode("cp1252")
    )
    (tmp_path / "note.txt").write_text("Plain words.", "utf-8")
    [page] = list(read_items(tmp_path / "page.html"))
    [note] = list(read_items(tmp_path / "note.txt", source="desk"))
    assert page.doc and "Café" in page.doc["content"] and page.doc["content_type"] == "text/html"
    assert note.doc and note.doc["content_type"] == "text/plain" and note.doc["source"] == "desk"


def test_publisher_refuses_oversize_and_invalid() -> None:
    good = {"id": "a", "url": "u", "source": "s", "content": "x" * 5000, "content_type": "text/plain"}
    with pytest.raises(StageError) as exc:
        encode_article(good, 2048)
    assert exc.value.reason == "oversize"
    with pytest.raises(StageError) as exc:
        encode_article({**good, "content_type": "text/markdown"}, 1_000_000)
    assert exc.value.reason == "unsupported_content_type"
    with pytest.raises(StageError) as exc:
        encode_article({**good, "content_type": None}, 1_000_000)
    assert exc.value.reason == "schema_invalid"


def test_sniff() -> None:
    assert sniff(Path("x.txt"), b"<?xml version='1.0'?><rss>") == "feed"
    assert sniff(Path("x"), b"<!DOCTYPE html><html>") == "html"
    assert sniff(Path("x.jsonl"), b"{}") == "jsonl"


@pytest.mark.corpus
def test_every_real_feed_is_read_or_rejected_clearly() -> None:
    from tests.conftest import shared_path

    root = shared_path("data", "realworld-feeds")
    files = [
        p
        for p in root.rglob("*")
        if p.suffix.lower() in (".xml", ".rss", ".atom", ".json") and "output" not in p.parts
    ]
    assert len(files) > 150
    published = rejected = 0
    for path in files:
        for item in read_items(path):
            if item.doc is None:
                assert item.error and item.reason
                rejected += 1
                continue
            try:
                encode_article(item.doc, 2_000_000)
                published += 1
            except StageError as exc:
                assert exc.reason in ("schema_invalid", "empty_body", "oversize", "unsupported_content_type")
                rejected += 1
    assert published > 1000
