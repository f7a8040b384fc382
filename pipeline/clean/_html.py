"""HTML cleaning: trafilatura for the main content, our text filter on top, page metadata.

The page is parsed once with lxml. trafilatura (precision mode, no comments, no metadata)
picks the article body out of that tree; when precision mode finds next to nothing (under
``_MIN_PRECISE_CHARS``), the default mode is tried and its output used if more than twice as
long. The text still carries chrome trafilatura could not tell from text (captions, "Read more"
lines, share prompts, newsletter boxes, teasers); it then goes through the plain-text filter of
:mod:`pipeline.clean._text` in its extracted mode.

Metadata is read from the same tree, cheaply: title (trafilatura's title rule: a single ``<h1>``,
``og:title`` and similar, ``<title>``), ``<link rel=canonical>``/``og:url``, ``<html lang>`` or
content-language, ``article:published_time`` and similar meta tags (htmldate's quick search only
when there is none), authors from bylines (trafilatura's ``extract_author`` rules). trafilatura's
full metadata pass is not run: it cost about a quarter of the page time. Meta tags are read from
one listing of the page's ``<meta>``/``<link>`` elements; the author search checks its discard
rules on the few candidates instead of pruning a copy of the whole page (see :func:`_authors`).

trafilatura's extractor settings are built once per mode (:func:`_extractor`). Its fast mode
(no readability/jusText comparison) was measured and rejected: F1 -0.003 on Zyte, -0.005 on fundus.
"""

from __future__ import annotations

import logging
import re
from copy import copy, deepcopy
from dataclasses import dataclass
from functools import cache

import trafilatura
from htmldate import find_date
from lxml.etree import XPath
from lxml.html import HtmlElement
from trafilatura.htmlprocessing import prune_unwanted_nodes
from trafilatura.json_metadata import normalize_authors
from trafilatura.metadata import extract_metainfo, extract_title
from trafilatura.settings import Extractor
from trafilatura.utils import load_html, trim
from trafilatura.xpaths import AUTHOR_DISCARD_XPATHS, AUTHOR_XPATHS, REGEXP_NS

from pipeline.clean._config import CleanConfig
from pipeline.clean._normalize import normalize_text
from pipeline.clean._prefilter import required_substrings
from pipeline.clean._text import clean_text_detailed

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class _Tagged:
    """``//tag[@a="x" or @b="y"]/@value`` read in Python from the page's ``tag`` elements.

    Same values in the same (document) order as the XPath; the elements of one tag are listed
    once per page, where each XPath walked the whole tree again.
    """

    tag: str
    tests: tuple[tuple[str, str], ...]
    value: str


_CANONICAL: tuple[str | _Tagged, ...] = (
    _Tagged("link", (("rel", "canonical"),), "href"),
    _Tagged("meta", (("property", "og:url"),), "content"),
)
_LANG: tuple[str | _Tagged, ...] = (
    "/html/@lang",
    "/html/@xml:lang",
    _Tagged("meta", (("http-equiv", "content-language"), ("http-equiv", "Content-Language")), "content"),
    _Tagged("meta", (("property", "og:locale"),), "content"),
)
_PUBLISHED: tuple[str | _Tagged, ...] = (
    _Tagged("meta", (("property", "article:published_time"),), "content"),
    _Tagged("meta", (("itemprop", "datePublished"),), "content"),
    _Tagged("meta", (("name", "pubdate"), ("name", "publishdate"), ("name", "date")), "content"),
    _Tagged("meta", (("property", "og:published_time"), ("name", "article:published_time")), "content"),
    _Tagged(
        "meta", (("name", "parsely-pub-date"), ("name", "sailthru.date"), ("name", "dc.date")), "content"
    ),
    "//time[@datetime][1]/@datetime",
)
_MIN_PRECISE_CHARS = 600
_RE_TEST = re.compile(r"re:test\((@[\w-]+), '([^']*)'\)")


def _guarded(xpath: XPath) -> XPath:
    """``xpath`` with each ``re:test(@attr, 'regex')`` behind C-level ``contains()`` checks.

    lxml calls back into Python's ``re`` for every element an EXSLT ``re:test`` is asked about;
    on a news page that made trafilatura's author search cost about as much as the extraction.
    XPath's ``and`` skips its right operand when the left is false, and the literals come from
    :func:`~pipeline.clean._prefilter.required_substrings` (every match contains one of them),
    so the guarded expression selects exactly the same elements.
    """

    def guard(match: re.Match[str]) -> str:
        attr, regex = match.group(1), match.group(2)
        required = required_substrings(re.compile(regex))
        if not required or any("'" in piece for piece in required):
            return match.group(0)
        contains = " or ".join(f"contains({attr}, '{piece}')" for piece in required)
        return f"(({contains}) and {match.group(0)})"

    return XPath(_RE_TEST.sub(guard, xpath.path), namespaces={"re": REGEXP_NS})


# trafilatura's author search (``trafilatura.metadata.extract_author``) with guarded expressions.
_AUTHOR_DISCARD = [_guarded(x) for x in AUTHOR_DISCARD_XPATHS]
_AUTHOR = [_guarded(x) for x in AUTHOR_XPATHS]
_NAMES_FROM_ROOT = re.compile(r"//[\w-]+(?:\|//[\w-]+)*")


def _discarded_above(xpath: XPath) -> XPath | None:
    """The discard expression turned around: does the context element or an ancestor match it?

    ``.//*[p]`` (descendants of the root) becomes ``ancestor-or-self::*[parent::*][p]``,
    ``//a|//b`` becomes ``ancestor-or-self::a|ancestor-or-self::b``; other shapes give ``None``.
    """
    path = xpath.path.strip()
    if path.startswith(".//*["):
        up = "ancestor-or-self::*[parent::*]" + path[len(".//*") :]
    elif _NAMES_FROM_ROOT.fullmatch(path):
        up = path.replace("//", "ancestor-or-self::")
    else:
        return None
    return XPath(up, namespaces={"re": REGEXP_NS})


_DISCARD_UP = [_discarded_above(x) for x in _AUTHOR_DISCARD]


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


_Elements = dict[str, list[HtmlElement]]


def _values(tree: HtmlElement, source: str | _Tagged, elements: _Elements) -> list[object]:
    if isinstance(source, str):
        return list(tree.xpath(source))
    if source.tag not in elements:
        elements[source.tag] = list(tree.getroottree().iter(source.tag))
    found: list[object] = []
    for elem in elements[source.tag]:
        if any(elem.get(attr) == wanted for attr, wanted in source.tests):
            value = elem.get(source.value)
            if value is not None:
                found.append(value)
    return found


def _first(tree: HtmlElement, sources: tuple[str | _Tagged, ...], elements: _Elements) -> str | None:
    """First non-blank value the sources give, in order; ``elements`` caches tag listings."""
    for source in sources:
        try:
            values = _values(tree, source, elements)
        except Exception:  # malformed trees can make lxml's xpath fail; metadata is optional
            continue
        for value in values:
            text = str(value).strip()
            if text:
                return text[:500]
    return None


def _language(tree: HtmlElement, elements: _Elements) -> str | None:
    value = _first(tree, _LANG, elements)
    if not value:
        return None
    code = value.replace("_", "-").split(",")[0].strip().split("-")[0].lower()
    return code if code.isalpha() and 2 <= len(code) <= 3 else None


@cache
def _extractor(precise: bool, include_tables: bool, fallback: bool) -> Extractor:
    """trafilatura's settings for one mode, built once (building them read its config: ~0.2 ms).

    ``fallback``: let trafilatura compare its result with readability's and jusText's (its
    default; ``fast=False``). Without it, extraction costs about half as much (see
    ``CleanConfig.html_fallback``)."""
    return Extractor(
        output_format="python",
        precision=precise,
        comments=False,
        tables=include_tables,
        with_metadata=False,
        fast=not fallback,
    )


def _options(url: str | None, precise: bool, config: CleanConfig) -> Extractor:
    """A copy of the cached settings with the page's URL, set as ``Extractor(url=url)`` sets it."""
    options = copy(_extractor(precise, config.include_tables, config.html_fallback))
    options.url = url
    options.source = url and url.encode("utf-8", "replace").decode("utf-8")
    return options


def _extract(tree: HtmlElement, url: str | None, precise: bool, config: CleanConfig) -> str:
    try:
        doc = trafilatura.bare_extraction(tree, options=_options(url, precise, config))
    except Exception:  # trafilatura can fail on pathological trees; treat as "nothing found"
        logger.debug("trafilatura failed", exc_info=True)
        return ""
    return (doc.text or "") if isinstance(doc, trafilatura.settings.Document) else ""


def _published(tree: HtmlElement, url: str | None, elements: _Elements) -> str | None:
    found = _first(tree, _PUBLISHED, elements)
    if found:
        return found
    try:
        return find_date(tree, url=url, extensive_search=False) or None
    except Exception:  # htmldate is a best-effort fallback
        return None


def _title(tree: HtmlElement) -> str:
    try:
        return extract_title(tree) or ""
    except Exception:  # metadata is optional
        return ""


def _author_by_pruning(tree: HtmlElement) -> str | None:
    """``extract_author``'s way: prune a copy of the page, then search it."""
    subtree = prune_unwanted_nodes(deepcopy(tree), _AUTHOR_DISCARD)
    return extract_metainfo(subtree, _AUTHOR, len_limit=120)


def _author_without_pruning(tree: HtmlElement, discard_up: list[XPath]) -> str | None:
    """The same answer as :func:`_author_by_pruning` without pruning the whole page.

    Pruning only deletes elements, so the candidates on the pruned page are the candidates on the
    page that no discard expression deletes (checked upwards from each candidate); a candidate's
    text is read from a pruned copy of just that element, as the whole-page prune would leave it.
    """
    for expression in _AUTHOR:
        for elem in expression(tree):
            if any(up(elem) for up in discard_up):
                continue
            kept = prune_unwanted_nodes(deepcopy(elem), _AUTHOR_DISCARD)
            content = trim(" ".join(kept.itertext()))
            if content and 2 < len(content) < 120:
                return content
    return None


def _authors(tree: HtmlElement) -> tuple[str, ...]:
    """Authors as ``trafilatura.metadata.extract_author`` finds them, faster.

    Its discard pass (comments, sidebars, dates, figures) over the whole page cost more than the
    search; it is replaced by checks on the few candidates. Pages outside the shapes that
    argument covers (a fragment root, ``<rel>`` elements, other discard expressions) take
    trafilatura's way.
    """
    try:
        discard_up = [up for up in _DISCARD_UP if up is not None]
        simple = (
            len(discard_up) == len(_DISCARD_UP)
            and tree.getparent() is None
            and next(tree.iter("rel"), None) is None
        )
        author = _author_without_pruning(tree, discard_up) if simple else _author_by_pruning(tree)
        found = (normalize_authors(None, author) if author else None) or ""
    except Exception:  # metadata is optional
        return ()
    return tuple(a.strip() for a in found.split(";") if a.strip())


def clean_html(html: str, config: CleanConfig, url: str | None = None) -> HtmlResult:
    """Title, body and metadata of the article in ``html`` (body may be empty)."""
    tree = load_html(html) if html.strip() else None
    if tree is None:
        return HtmlResult(title="", body="")
    elements: _Elements = {}
    canonical = _first(tree, _CANONICAL, elements)
    language = _language(tree, elements)
    title = normalize_text(_title(tree), ascii_quotes=config.ascii_quotes).strip()
    text = _extract(tree, url, config.favor_precision, config)
    if config.favor_precision and len(text) < _MIN_PRECISE_CHARS:
        fallback = _extract(tree, url, False, config)
        text = fallback if len(fallback) > 2 * len(text) else text
    removed: tuple[str, ...] = ()
    if config.html_text_filter and text:
        result = clean_text_detailed(text, config, title_hint=title or None, extracted=True)
        text, removed = result.body, result.removed
    else:
        text = normalize_text(text, ascii_quotes=config.ascii_quotes)
    return HtmlResult(
        title=title,
        body=text,
        canonical_url=canonical or url,
        published_at=_published(tree, url, elements),
        authors=_authors(tree),
        language=language,
        removed=removed,
    )
