"""HTML cleaning: trafilatura for the main content, our text filter on top, page metadata.

trafilatura (precision mode, no comments) picks the article body out of the page. Its output
still carries chrome it could not tell from text (captions, "Read more" lines, share prompts,
newsletter boxes, teasers); each paragraph then goes through the plain-text filter of
:mod:`pipeline.clean._text`. Metadata: ``<link rel=canonical>``/``og:url``, ``<html lang>`` or
content-language, ``article:published_time`` (else trafilatura's date), trafilatura's authors.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import trafilatura
from lxml.html import HtmlElement
from trafilatura.utils import load_html

from pipeline.clean._config import CleanConfig
from pipeline.clean._normalize import normalize_text
from pipeline.clean._text import clean_text_detailed

logger = logging.getLogger(__name__)

_CANONICAL = (
    '//link[@rel="canonical"]/@href',
    '//meta[@property="og:url"]/@content',
)
_LANG = (
    "/html/@lang",
    "/html/@xml:lang",
    '//meta[@http-equiv="content-language" or @http-equiv="Content-Language"]/@content',
    '//meta[@property="og:locale"]/@content',
)
_PUBLISHED = (
    '//meta[@property="article:published_time"]/@content',
    '//meta[@itemprop="datePublished"]/@content',
    '//meta[@name="pubdate" or @name="publishdate" or @name="date"]/@content',
)


@dataclass(frozen=True, slots=True)
class HtmlResult:
    """Article extracted from one page."""

    title: str
    body: str
    canonical_url: str | None = None
    published_at: str | None = None
    authors: tuple[str, ...] = ()
    language: str | None = None
    removed: tuple[str, ...] = ()


def _first(tree: HtmlElement, xpaths: tuple[str, ...]) -> str | None:
    for xpath in xpaths:
        try:
            values = tree.xpath(xpath)
        except Exception:  # malformed trees can make lxml's xpath fail; metadata is optional
            continue
        for value in values:
            text = str(value).strip()
            if text:
                return text[:500]
    return None


def _language(tree: HtmlElement) -> str | None:
    value = _first(tree, _LANG)
    if not value:
        return None
    code = value.replace("_", "-").split(",")[0].strip().split("-")[0].lower()
    return code if code.isalpha() and 2 <= len(code) <= 3 else None


def _extract(tree: HtmlElement, url: str | None, config: CleanConfig) -> trafilatura.settings.Document | None:
    try:
        doc = trafilatura.bare_extraction(
            tree,
            url=url,
            favor_precision=config.favor_precision,
            include_comments=False,
            include_tables=config.include_tables,
            with_metadata=True,
        )
    except Exception:  # trafilatura can fail on pathological trees; treat as "nothing found"
        logger.debug("trafilatura failed", exc_info=True)
        return None
    return doc if isinstance(doc, trafilatura.settings.Document) else None


def clean_html(html: str, config: CleanConfig, url: str | None = None) -> HtmlResult:
    """Title, body and metadata of the article in ``html`` (body may be empty)."""
    tree = load_html(html) if html.strip() else None
    if tree is None:
        return HtmlResult(title="", body="")
    canonical = _first(tree, _CANONICAL)
    language = _language(tree)
    published = _first(tree, _PUBLISHED)
    doc = _extract(tree, url, config)
    if doc is None:
        return HtmlResult(
            title="", body="", canonical_url=canonical, language=language, published_at=published
        )
    title = normalize_text(doc.title or "", ascii_quotes=config.ascii_quotes).strip()
    text = doc.text or ""
    removed: tuple[str, ...] = ()
    if config.html_text_filter and text:
        result = clean_text_detailed(text, config, title_hint=title or None, extracted=True)
        text, removed = result.body, result.removed
    else:
        text = normalize_text(text, ascii_quotes=config.ascii_quotes)
    authors = tuple(a.strip() for a in (doc.author or "").split(";") if a.strip())
    return HtmlResult(
        title=title,
        body=text,
        canonical_url=canonical or doc.url,
        published_at=published or doc.date,
        authors=authors,
        language=language or doc.language,
        removed=removed,
    )
