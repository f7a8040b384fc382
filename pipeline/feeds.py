"""Turn files into raw-article dicts: RSS 0.9x/1.0/2.0, Atom, JSON Feed, JSONL, .html, .txt.

Pure: reads bytes, returns :class:`Item` values (a raw-article dict, or the reason it was
rejected with where it came from). Validation against the raw-article schema happens in the
publisher, so every path gets the same checks.
"""

from __future__ import annotations

import calendar
import hashlib
import re
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import feedparser
import orjson

from pipeline.clean import decode_bytes

_TAG = re.compile(r"<[a-zA-Z/!][^>]{0,2000}>")


@dataclass(frozen=True, slots=True)
class Item:
    """One candidate article from a file: ``doc`` when it could be read, else ``error``."""

    where: str  # "path", "path:line 3" or "path item 2"
    doc: dict[str, Any] | None = None
    error: str | None = None
    reason: str | None = None
    original: bytes = b""  # the bytes it was read from, when ``doc`` is None (a JSONL line)


def article_id(*parts: str) -> str:
    return "a-" + hashlib.sha1("\x1f".join(parts).encode("utf-8")).hexdigest()[:20]


def _rfc3339(struct: time.struct_time | None) -> str | None:
    if struct is None:
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(struct), UTC).isoformat().replace("+00:00", "Z")
    except (OverflowError, ValueError, OSError):
        return None


def _looks_html(text: str) -> bool:
    return _TAG.search(text[:20000]) is not None


def sniff(path: Path, head: bytes) -> str:
    """Kind of file: jsonl, jsonfeed, feed, html or text."""
    suffix = path.suffix.lower()
    start = head.lstrip()[:400].lower()
    if suffix == ".jsonl":
        return "jsonl"
    if suffix == ".json" or start.startswith(b"{"):
        return "jsonfeed" if b"jsonfeed.org" in head[:4000] else "jsonl"
    if (
        suffix in (".rss", ".atom", ".xml", ".rdf")
        or b"<rss" in start
        or b"<feed" in start
        or b"<rdf" in start
    ):
        return "feed"
    if suffix in (".html", ".htm") or b"<html" in start or b"<!doctype html" in start:
        return "html"
    return "text"


def read_items(path: Path, *, source: str | None = None) -> Iterator[Item]:
    """Every candidate article in ``path``."""
    data = path.read_bytes()
    kind = sniff(path, data[:4096])
    if kind == "jsonl":
        yield from _jsonl_items(path, data)
    elif kind == "jsonfeed":
        yield from _json_feed_items(path, data, source)
    elif kind == "feed":
        yield from _feed_items(path, data, source)
    else:
        text = decode_bytes(data, None, "text/html" if kind == "html" else "text/plain")
        url = path.resolve().as_uri()
        yield Item(
            where=str(path),
            doc={
                "id": article_id(url, hashlib.sha1(data).hexdigest()),
                "url": url,
                # without --source each file is its own source ("folder/name"): two versions of
                # a story saved side by side must not show as one outlet twice
                "source": source or (f"{path.parent.name}/{path.name}" if path.parent.name else path.name),
                "content": text,
                "content_type": "text/html" if kind == "html" else "text/plain",
                "fetched_at": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
            },
        )


def _jsonl_items(path: Path, data: bytes) -> Iterator[Item]:
    for number, line in enumerate(data.splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            line.decode("utf-8")
        except UnicodeDecodeError as exc:
            error = f"not valid UTF-8 at byte {exc.start} of the line: {exc.reason}"
            yield Item(where, error=error, reason="invalid_encoding", original=line)
            continue
        try:
            doc = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            yield Item(where, error=f"not valid JSON ({exc})", reason="malformed_json", original=line)
            continue
        if not isinstance(doc, dict):
            yield Item(
                where,
                error=f"expected a JSON object, got {type(doc).__name__}",
                reason="schema_invalid",
                original=line,
            )
            continue
        yield Item(where, doc=doc)


def _source_of(url: str | None, fallback: str) -> str:
    host = urlparse(url).hostname if url else None
    return host.removeprefix("www.") if host else fallback


def _feed_items(path: Path, data: bytes, source: str | None) -> Iterator[Item]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # feedparser's updated/published mapping
        parsed = feedparser.parse(data)
    feed = parsed.get("feed", {})
    entries = parsed.get("entries", [])
    if not entries:
        problem = parsed.get("bozo_exception")
        yield Item(
            str(path), error=f"no feed items found ({problem or 'not a feed'})", reason="schema_invalid"
        )
        return
    feed_lang = feed.get("language") or None
    feed_link = feed.get("link") or None
    feed_source = source or feed.get("title") or _source_of(feed_link, path.stem)
    for n, entry in enumerate(entries, start=1):
        where = f"{path} item {n}"
        content = ""
        if entry.get("content"):
            content = max((c.get("value", "") for c in entry["content"]), key=len)
        summary = entry.get("summary", "") or ""
        body = content if len(content) >= len(summary) else summary
        link = entry.get("link") or feed_link or path.resolve().as_uri()
        guid = entry.get("id") or link
        title = entry.get("title") or None
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            published = _rfc3339(entry.get("published_parsed") or entry.get("updated_parsed"))
        authors = [a.get("name") for a in entry.get("authors", []) if isinstance(a, dict) and a.get("name")]
        doc: dict[str, Any] = {
            "id": article_id(str(guid), str(link)),
            "url": link,
            "source": feed_source,
            "content": body,
            "content_type": "text/html" if _looks_html(body) else "text/plain",
            "title": title,
            "published_at": published,
            "language": entry.get("language") or feed_lang,
            "authors": authors or None,
            "feed_url": feed.get("links", [{}])[0].get("href") if feed.get("links") else None,
        }
        yield Item(where, doc={k: v for k, v in doc.items() if v is not None})


def _json_feed_items(path: Path, data: bytes, source: str | None) -> Iterator[Item]:
    try:
        feed = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        yield Item(str(path), error=f"not valid JSON ({exc})", reason="malformed_json")
        return
    items = feed.get("items") if isinstance(feed, dict) else None
    if not isinstance(items, list) or not items:
        yield Item(str(path), error="JSON Feed has no items", reason="schema_invalid")
        return
    feed_source = source or feed.get("title") or _source_of(feed.get("home_page_url"), path.stem)
    for n, entry in enumerate(items, start=1):
        where = f"{path} item {n}"
        if not isinstance(entry, dict):
            yield Item(where, error="item is not an object", reason="schema_invalid")
            continue
        html = entry.get("content_html") or ""
        text = entry.get("content_text") or ""
        body = html or text or entry.get("summary") or ""
        link = entry.get("url") or entry.get("external_url") or feed.get("home_page_url") or path.as_uri()
        authors = [
            a.get("name") for a in entry.get("authors", []) or [] if isinstance(a, dict) and a.get("name")
        ]
        doc = {
            "id": article_id(str(entry.get("id") or link), str(link)),
            "url": link,
            "source": feed_source,
            "content": body,
            "content_type": "text/html" if (html or _looks_html(body)) else "text/plain",
            "title": entry.get("title"),
            "published_at": entry.get("date_published"),
            "language": entry.get("language") or feed.get("language"),
            "authors": authors or None,
            "feed_url": feed.get("feed_url"),
        }
        yield Item(where, doc={k: v for k, v in doc.items() if v is not None})
