"""Typed records passed between stages.

Stages exchange these frozen dataclasses, never loose dicts. JSON conversion happens only at the
edges (decode of the raw topic, encode of the story topic), against the schemas in ``schemas/``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

RAW_KNOWN_FIELDS = (
    "id",
    "url",
    "source",
    "content",
    "content_type",
    "title",
    "published_at",
    "language",
    "authors",
    "feed_url",
    "fetched_at",
)


@dataclass(frozen=True, slots=True)
class RawArticle:
    """One article as received on the raw topic (see ``schemas/raw_article.schema.json``)."""

    id: str
    url: str
    source: str
    content: str
    content_type: str  # "text/html" or "text/plain"
    title: str | None = None
    published_at: str | None = None  # RFC 3339
    language: str | None = None
    authors: tuple[str, ...] = ()
    feed_url: str | None = None
    fetched_at: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)  # unknown fields, carried along

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> RawArticle:
        """Build from a dict already validated against the raw-article schema."""
        extra = {k: v for k, v in d.items() if k not in RAW_KNOWN_FIELDS}
        return cls(
            id=d["id"],
            url=d["url"],
            source=d["source"],
            content=d["content"],
            content_type=d["content_type"],
            title=d.get("title"),
            published_at=d.get("published_at"),
            language=d.get("language"),
            authors=tuple(d.get("authors") or ()),
            feed_url=d.get("feed_url"),
            fetched_at=d.get("fetched_at"),
            extra=extra,
        )

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = dict(self.extra)
        out.update(
            id=self.id,
            url=self.url,
            source=self.source,
            content=self.content,
            content_type=self.content_type,
        )
        for key in ("title", "published_at", "language", "feed_url", "fetched_at"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        if self.authors:
            out["authors"] = list(self.authors)
        return out


@dataclass(frozen=True, slots=True)
class CleanedArticle:
    """Output of the clean stage: the article's own title and body, plus page metadata.

    ``text`` is plain text, paragraphs separated by a blank line (``"\\n\\n"``), no markup.
    Metadata found in the page (canonical URL, date, authors, language) fills the fields the raw
    record left empty; values given in the raw record win.
    """

    id: str
    url: str
    source: str
    title: str
    text: str
    canonical_url: str | None = None
    published_at: str | None = None
    language: str | None = None
    authors: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()  # kinds of boilerplate removed, for diagnostics (e.g. "cookie")


_MEDIA_ALIASES = {"application/xhtml+xml": "text/html", "text/xhtml": "text/html"}


def media_type(content_type: str) -> str:
    """The media type of a content-type value, lower-cased, without parameters:
    'Text/HTML; charset=UTF-8' -> 'text/html' (XHTML counts as HTML)."""
    kind = content_type.split(";", 1)[0].strip().lower()
    return _MEDIA_ALIASES.get(kind, kind)
