"""The lines above an article's body: which one is the headline, which are page chrome.

Text taken from a page often starts with a few short lines before the headline: a section label
("WORLD NEWS", "Opinion"), a kicker ("EXCLUSIVE"), a link ("MORE FROM THE WIRE", "Watch: ..."),
a breadcrumb ("Home > World > Asia"), a date or reading time ("Updated: Jan. 14, 2022", "5 min
read"), a byline or agency ("By Jane Doe, Associated Press", "Reuters"), menu items ("Skip to
content", "Login"). Taken for the headline, any of these becomes the story's title.

The header is the leading run of title-shaped units (short, no full stop). A unit of it is *weak*
when it reads as one of the kinds above; a weak unit is chrome only when a unit that is not weak
follows it in the header: a headline standing alone above the body stays the headline however
short it is ("Brexit delayed"), and a headline that merely starts like a link ("More than 2,000
troops ...") is followed by the body, not by another headline.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from pipeline.clean import _patterns as P

HEADER_MAX_UNITS = 6
HEADLINE_MAX_WORDS = 24
LABEL = "label"  # a line of one or two words: a section name, a kicker, or a very short headline

_MONTHS = (
    "january february march april may june july august september october november december "
    "jan feb mar apr jun jul aug sep sept oct nov dec"
).split()
_WEEKDAYS = (
    "monday tuesday wednesday thursday friday saturday sunday mon tue tues wed thu thur thurs fri sat sun"
)
# Words that may sit in a date, time or "posted ... ago" line besides the numbers themselves.
_DATE_WORDS = frozenset(
    _MONTHS
    + _WEEKDAYS.split()
    + (
        "am pm a m p et est edt ct cst cdt pt pst pdt mt gmt utc bst cet cest ist jst aest "
        "updated update published posted modified last created on at by ago "
        "second seconds sec secs minute minutes min mins hour hours hr hrs day days week weeks "
        "month months year years yesterday today st nd rd th of"
    ).split()
)
_STAMP_WORDS = frozenset("am pm updated update published posted modified created ago".split())
_TOKEN = re.compile(r"[^\W_]+", re.UNICODE)
_BYLINE = re.compile(
    r"^\s*(?:by|von|par|por|door|di)\s+\S"
    r"|,\s*(?:(?:staff|senior|chief|special|political|foreign|business|sports?|science|health)\s+)?"
    r"(?:writer|reporter|correspondent|editor|contributor|columnist|journalist)s?\b",
    re.IGNORECASE,
)
_AGENCY = re.compile(
    r"^\W*(?:the\s+)?(?:associated press|ap|reuters|thomson reuters|afp|agence france[- ]presse|bloomberg|"
    r"upi|dpa|ansa|efe|xinhua|pti|ians|kyodo|yonhap|tass|cnn wire|pa media|press association|"
    r"staff(?: report| reports)?|wire (?:report|reports|service|services)|news desk|web desk)\W*$",
    re.IGNORECASE,
)
_READING = re.compile(
    r"\b\d+\s*-?\s*(?:min(?:ute)?s?|m)\.?\s+(?:read|listen|watch)\b|^\s*(?:estimated\s+)?reading time\b"
    r"|^\s*listen to (?:this|the) (?:article|story|report|podcast)\b|^\s*(?:print|text) size\b"
    r"|^\s*(?:a\s*)?-?\s*(?:a\s*)?\+?\s*(?:font size|text size)\b",
    re.IGNORECASE,
)
_UI = re.compile(
    r"^\W*(?:menu|main menu|open menu|close(?: menu)?|search|search this site|log ?in|log ?out|sign ?in|"
    r"sign ?up|register|my account|account|home|homepage|skip to (?:main )?content|skip navigation|"
    r"toggle navigation|navigation|back to top|go back|back|next article|previous article|"
    r"breaking(?: news)?|exclusive|live|live updates|updated|developing(?: story)?|watch live|trending|"
    r"advertisement)\W*$"
    r"|^\s*(?:share|follow|like|tweet|post|pin|send)\b.{0,40}\b(?:on|via|to)\s+(?:facebook|twitter|x|"
    r"linkedin|whatsapp|telegram|reddit|pinterest|email|e-mail|instagram)\b",
    re.IGNORECASE,
)
# "Watch: ...", "Video: ...", "Related: ...": a link to other content above the headline.
_LINK_LABEL = re.compile(
    r"^\W*(?:watch|video|videos|listen|audio|podcast|photos?|gallery|pictures|in pictures|related|"
    r"read more|read also|also read|see also|more|sponsored)\s*[:|]\s*\S",
    re.IGNORECASE,
)
_CRUMB = re.compile(r"\s(?:>|»|›|\||/|·|•)\s")


def _date_like(unit: str) -> bool:
    words = _TOKEN.findall(unit.lower())
    if not words or len(words) > 14:
        return False
    numbers = sum(w.isdigit() for w in words)
    others = [w for w in words if not w.isdigit() and w not in _DATE_WORDS]
    has_date_word = any(w in _DATE_WORDS and w not in ("on", "at", "by", "of", "st", "nd", "rd", "th")
                        for w in words)  # fmt: skip
    # one number needs a word that marks a timestamp ("Published 3 hours ago"): "Trump on Jan. 6"
    # is a headline, "Jan. 14, 2022" a date
    marked = any(w in _STAMP_WORDS for w in words)
    return (
        has_date_word and len(others) <= 1 and (numbers >= 2 or (numbers == 1 and marked) or "ago" in words)
    )


def _crumb(unit: str) -> bool:
    parts = [p for p in _CRUMB.split(unit) if p.strip()]
    return len(parts) >= 2 and all(len(p.split()) <= 4 for p in parts)


def weak(unit: str) -> str | None:
    """Why ``unit`` may be chrome rather than a headline ("byline", "date", ...), or None."""
    if _BYLINE.search(unit) or _AGENCY.match(unit):
        return "byline"
    if _date_like(unit):
        return "date"
    if _READING.search(unit):
        return "reading_time"
    if _UI.search(unit):
        return "menu"
    if _LINK_LABEL.match(unit):
        return "link"
    if _crumb(unit):
        return "breadcrumb"
    n_words = len(P.WORD.findall(unit))
    kind = P.match_kind(unit)  # "MORE FROM THE WIRE", "Sponsored", a photo credit, a share bar
    # a headline may start with "More" ("More than 2,000 troops leave ..."): only a short one
    if kind is not None and (kind != P.RELATED or n_words <= 5 or ":" in unit):
        return "link"
    words = P.WORD.findall(unit)
    # "World", "WORLD NEWS", "Middle East": a section name; "Troops leave" reads as a headline
    if n_words == 1 or (n_words == 2 and all(w[0].isupper() or w[0].isdigit() for w in words)):
        return LABEL
    return None


def _headline(unit: str, stands_alone: bool) -> bool:
    """Whether a title-shaped, not weak unit under chrome lines can be the headline: on a line of
    its own, not a lead-in ("... (all times local):"), at most HEADLINE_MAX_WORDS words."""
    return (
        stands_alone and not unit.rstrip().endswith(":") and len(P.WORD.findall(unit)) <= HEADLINE_MAX_WORDS
    )


def header_chrome(units: list[str], title_shaped: list[bool], ends_block: list[bool]) -> tuple[int, bool]:
    """``(k, headline)``: the first ``k`` units are chrome above the article; ``headline`` tells
    whether ``units[k]`` is its headline (title-shaped, not weak, on a line of its own, followed by
    more text).

    Chrome is a run of weak title-shaped units followed by a headline, or by the body itself when
    none of them is a mere short label (which may be the headline: "Brexit delayed").
    """
    reasons: list[str] = []
    for i, unit in enumerate(units[:HEADER_MAX_UNITS]):
        if i + 1 >= len(units):
            break
        if not title_shaped[i]:  # the body starts here
            if reasons and LABEL not in reasons:
                return i, False
            break
        reason = weak(unit)
        if reason is None:
            return (i, True) if reasons and _headline(unit, ends_block[i]) else (0, False)
        reasons.append(reason)
    return 0, False


def title_position(units: list[str], title_shaped: list[bool], same: Callable[[str], bool]) -> int | None:
    """Index of the unit that repeats the given title among the leading units, when only
    title-shaped units stand above it (chrome then, like the above); None if there is none.
    ``same(unit)`` tells whether a unit repeats the title; it is asked of the units up to the
    first one that is not title-shaped only (the comparison reads every word of a paragraph).

    Under chrome lines, a repeat that ends with a full stop is left alone: it may be the body's
    first sentence, which a feed also used as its title."""
    for i in range(min(len(units), HEADER_MAX_UNITS)):
        if same(units[i]):
            return i if i == 0 or title_shaped[i] else None
        if not title_shaped[i]:
            return None
    return None
