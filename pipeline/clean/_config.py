"""Settings of the clean stage."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class CleanConfig:
    """Knobs of the clean stage; defaults are the ones measured by ``pipeline eval clean``.

    ``favor_precision`` is passed to trafilatura for HTML. ``min_body_chars``: a body shorter than
    this after cleaning raises ``empty_after_cleaning``. ``min_article_words``: so does a body with
    fewer words of prose than this (menus, short link lines and error-page or paywall messages do
    not count; see :mod:`pipeline.clean._substance`). ``max_chrome_words``: lines without final
    punctuation up to this many words are treated as navigation/chrome unless they share a content
    word with the line above or below (sub-heading, list item). ``teaser_min_overlap`` /
    ``teaser_cued_overlap``: a trailing paragraph sharing fewer content words than this with the body
    above is a teaser of another story (the second, higher bar applies when it opens with an upper-case
    kicker or is cut off mid-sentence). ``teaser_min_words``: shorter trailing paragraphs are
    never teasers. ``html_fallback``: trafilatura checks its extraction against readability's
    (its default); off, HTML cleaning is 1.2-1.8x faster for about 0.3-0.5 points less F1 (``pipeline
    eval clean``: Zyte 0.972 -> 0.969, fundus 0.963 -> 0.958).
    """

    favor_precision: bool = True
    include_tables: bool = True
    min_body_chars: int = 1
    min_article_words: int = 5
    ascii_quotes: bool = True
    max_chrome_words: int = 15
    weak_pattern_max_words: int = 20
    max_title_words: int = 30
    teaser_min_overlap: float = 0.05
    teaser_cued_overlap: float = 0.35
    teaser_min_words: int = 12
    html_text_filter: bool = True
    html_fallback: bool = True
