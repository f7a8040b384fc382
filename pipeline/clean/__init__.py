"""Clean stage: the article's own title and body out of an HTML page or plain text.

In: a :class:`~pipeline.records.RawArticle` whose ``content`` is already a ``str`` and whose
``content_type`` is ``text/html`` or ``text/plain``. Out: a :class:`~pipeline.records.CleanedArticle`
with the title, the body as plain text (paragraphs separated by ``"\\n\\n"``), page metadata for the
fields the raw record left empty, and the kinds of boilerplate removed.

Raises :class:`~pipeline.errors.StageError` with reason ``empty_after_cleaning`` when no article
is left: no body, or a body without ``min_article_words`` words of prose (a page of menus, links,
an error or a paywall message; see :mod:`pipeline.clean._substance`), and
``unsupported_content_type`` for other content types.

Title rules: the raw record's non-empty ``title`` wins. For HTML, otherwise the page's title.
For plain text, otherwise a first line standing alone (blank line after it), of at most
``max_title_words`` words and not ending with a full stop; else the title is empty. A title line
found at the top of the text is removed from the body.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from pipeline.clean._charset import decode_bytes
from pipeline.clean._config import CleanConfig
from pipeline.clean._html import HtmlResult, clean_html
from pipeline.clean._markup import looks_like_html_page, without_markup
from pipeline.clean._substance import has_article_text
from pipeline.clean._text import TextResult, clean_text, clean_text_detailed
from pipeline.errors import EMPTY_AFTER_CLEANING, UNSUPPORTED_CONTENT_TYPE, StageError
from pipeline.records import CleanedArticle, RawArticle, media_type

__all__ = [
    "CleanConfig",
    "CleanContent",
    "HtmlResult",
    "TextResult",
    "clean_article",
    "clean_content",
    "clean_html",
    "clean_text",
    "clean_text_detailed",
    "cleaned_article",
    "content_kind",
    "decode_bytes",
    "without_markup",
]


@dataclass(frozen=True, slots=True)
class CleanContent:
    """What cleaning finds in an article's content: everything of a :class:`CleanedArticle` that
    depends only on the content, its type, the raw title and (for a page) the URL."""

    title: str
    body: str
    removed: tuple[str, ...]
    canonical_url: str | None = None
    published_at: str | None = None
    language: str | None = None
    authors: tuple[str, ...] = ()


def content_kind(raw: RawArticle) -> str:
    """How the content is cleaned: ``text/html``, ``text/plain`` or another (unsupported) type.
    A whole page delivered as text counts as HTML."""
    content_type = media_type(raw.content_type)
    if content_type == "text/plain" and looks_like_html_page(raw.content):
        return "text/html"
    return content_type


def clean_content(raw: RawArticle, config: CleanConfig, kind: str | None = None) -> CleanContent:
    """The content part of :func:`clean_article` (``kind``: :func:`content_kind`, if known).
    Reads only ``content``, ``content_type``, ``title`` and, for a page, ``url``."""
    content_type = kind or content_kind(raw)
    raw_title = without_markup(raw.title or "").strip() or None
    if content_type == "text/html":
        page = clean_html(raw.content, config, url=raw.url)
        title, body = raw_title or page.title, page.body
        found = CleanContent(
            "", "", page.removed, page.canonical_url, page.published_at, page.language, page.authors
        )
    elif content_type == "text/plain":
        result = clean_text_detailed(raw.content, config, title_hint=raw_title)
        title, body = result.title, result.body
        found = CleanContent("", "", result.removed)
    else:
        raise StageError(UNSUPPORTED_CONTENT_TYPE, f"cannot clean {raw.content_type!r}", stage="clean")
    title, body = without_markup(title).strip(), without_markup(body).strip()
    if len(body) < max(1, config.min_body_chars):
        raise StageError(EMPTY_AFTER_CLEANING, f"no article body left in {raw.id}", stage="clean")
    if not has_article_text(body, config):
        message = f"no article text left in {raw.id} (menus, links or an error/paywall message only)"
        raise StageError(EMPTY_AFTER_CLEANING, message, stage="clean")
    return replace(found, title=title, body=body, removed=tuple(dict.fromkeys(found.removed)))


def cleaned_article(raw: RawArticle, content: CleanContent) -> CleanedArticle:
    """The cleaned article of ``raw`` whose content cleaned to ``content``: values given in the
    raw record win over those found in the page."""
    return CleanedArticle(
        id=raw.id,
        url=raw.url,
        source=raw.source,
        title=content.title,
        text=content.body,
        canonical_url=content.canonical_url,
        published_at=raw.published_at or content.published_at,
        language=raw.language or content.language,
        authors=raw.authors or content.authors,
        removed=content.removed,
    )


def clean_article(raw: RawArticle, config: CleanConfig) -> CleanedArticle:
    """Clean one raw article (see the module docstring)."""
    return cleaned_article(raw, clean_content(raw, config))
