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
    "HtmlResult",
    "TextResult",
    "clean_article",
    "clean_html",
    "clean_text",
    "clean_text_detailed",
    "decode_bytes",
    "without_markup",
]


def clean_article(raw: RawArticle, config: CleanConfig) -> CleanedArticle:
    """Clean one raw article (see the module docstring)."""
    content_type = media_type(raw.content_type)
    if content_type == "text/plain" and looks_like_html_page(raw.content):
        content_type = "text/html"  # a whole page delivered as text: clean it as the page it is
    raw_title = without_markup(raw.title or "").strip() or None
    if content_type == "text/html":
        page = clean_html(raw.content, config, url=raw.url)
        title, body, removed = raw_title or page.title, page.body, page.removed
        canonical, published, language, authors = (
            page.canonical_url,
            page.published_at,
            page.language,
            page.authors,
        )
    elif content_type == "text/plain":
        result = clean_text_detailed(raw.content, config, title_hint=raw_title)
        title, body, removed = result.title, result.body, result.removed
        canonical = published = language = None
        authors = ()
    else:
        raise StageError(UNSUPPORTED_CONTENT_TYPE, f"cannot clean {raw.content_type!r}", stage="clean")
    title, body = without_markup(title).strip(), without_markup(body).strip()
    if len(body) < max(1, config.min_body_chars):
        raise StageError(EMPTY_AFTER_CLEANING, f"no article body left in {raw.id}", stage="clean")
    if not has_article_text(body, config):
        message = f"no article text left in {raw.id} (menus, links or an error/paywall message only)"
        raise StageError(EMPTY_AFTER_CLEANING, message, stage="clean")
    return CleanedArticle(
        id=raw.id,
        url=raw.url,
        source=raw.source,
        title=title,
        text=body,
        canonical_url=canonical,
        published_at=raw.published_at or published,
        language=raw.language or language,
        authors=raw.authors or authors,
        removed=tuple(dict.fromkeys(removed)),
    )
