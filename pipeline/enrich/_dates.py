"""Find date expressions with regexes and resolve them against the publish date.

Regexes first (cheap), arithmetic second; no per-token dateparser calls. Handled forms:

* ``today``, ``tonight``, ``this morning/afternoon/evening``, ``yesterday``, ``last night``,
  ``tomorrow`` — relative to the publish day;
* weekday names (``on Wednesday``, ``last Friday``, ``next Monday``): a bare or "last" weekday is the
  most recent such day on or before the publish day (news report the past; "last" never means the
  publish day itself), "next" the first one after it;
* ``last week`` / ``next week``: publish day minus/plus 7 days (a week's anchor, not a range);
* month-day forms ``Jan. 6``, ``January 6``, ``January 6, 2022``, ``6 January 2022``: without a year,
  the year that puts the day closest to the publish day;
* ISO dates ``2022-01-06``.

Relative forms need a publish date; without one, only forms carrying a year are returned.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

from pipeline import native
from pipeline.enrich._types import DateMention

_MONTHS = {
    "jan": 1,
    "feb": 2,
    "mar": 3,
    "apr": 4,
    "may": 5,
    "jun": 6,
    "jul": 7,
    "aug": 8,
    "sep": 9,
    "sept": 9,
    "oct": 10,
    "nov": 11,
    "dec": 12,
}
_WEEKDAYS = {
    "monday": 0,
    "tuesday": 1,
    "wednesday": 2,
    "thursday": 3,
    "friday": 4,
    "saturday": 5,
    "sunday": 6,
}
_MONTH_RE = (
    r"(?:Jan(?:uary|\.)?|Feb(?:ruary|\.)?|Mar(?:ch|\.)?|Apr(?:il|\.)?|May|June?|July?|"
    r"Aug(?:ust|\.)?|Sep(?:t(?:ember|\.)?|\.)?|Oct(?:ober|\.)?|Nov(?:ember|\.)?|Dec(?:ember|\.)?)"
)
_DAY = r"(?:[12]\d|3[01]|0?[1-9])(?:st|nd|rd|th)?"
_YEAR = r"(?:19|20)\d\d"
_WEEKDAY = r"Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday"
_RELATIVE = (
    r"[Tt]oday|[Tt]onight|[Yy]esterday|[Tt]omorrow|"
    r"[Ll]ast\snight|[Tt]his\s(?:morning|afternoon|evening)"
)
_PATTERN = re.compile(
    rf"""
    # every form starts at a word boundary with one of these characters: checked once per position
    \b(?=[0-9JFMASONDTtYyLlNnW])
    (?:
    (?P<iso>\b(?P<iy>{_YEAR})-(?P<im>0[1-9]|1[0-2])-(?P<id>0[1-9]|[12]\d|3[01])\b)
  | (?P<md>\b(?P<m1>{_MONTH_RE})\s(?P<d1>{_DAY})\b(?:,?\s(?P<y1>{_YEAR})\b)?)
  | (?P<dm>\b(?P<d2>{_DAY})\s(?:of\s)?(?P<m2>{_MONTH_RE})(?:\s(?P<y2>{_YEAR}))?\b)
  | (?P<rel>\b(?:{_RELATIVE})\b)
  | (?P<wk>\b(?:(?P<wmod>[Ll]ast|[Nn]ext|[Tt]his)\s)?(?P<wd>{_WEEKDAY})\b)
  | (?P<week>\b(?P<wkmod>[Ll]ast|[Nn]ext)\sweek\b)
    )
    """,
    re.VERBOSE,
)
_REL_DAYS = {"today": 0, "tonight": 0, "yesterday": -1, "tomorrow": 1, "last night": -1}

# Where a date expression can start: the first characters of every form of ``_PATTERN`` (an ASCII
# digit, a month's first three letters, a weekday, a relative word).
_START_WORDS: tuple[str, ...] = tuple(
    [str(d) for d in range(10)]
    + "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()
    + [day.capitalize() for day in _WEEKDAYS]
    + [w for word in ("today", "tonight", "yesterday", "tomorrow", "last", "this", "next")
       for w in (word.capitalize(), word)]
)  # fmt: skip
# The same starts as one regex (the Python twin's scan). Each alternative starts with a literal
# character, so the regex engine skips every position whose character starts none of them in one
# C loop; ``_PATTERN`` is then tried only there (about 20 places in a 5,000-character article
# instead of every position: 96 against 147-172 µs per article, same matches).
_STARTS = re.compile("|".join(w if not w.isdigit() else f"{w}[0-9]*" for w in _START_WORDS))
# The compiled scan (pipeline/_native.c): only the starts that begin a word, where ``_PATTERN``'s
# leading ``\b`` can hold. The regex scan above still tries its alternatives at every position
# whose character could start one (every "t", "l", "n" ... inside words): 136 µs per bench
# article against 8 µs for the compiled scan (5,073 characters on average, 20 starts).
_word_starts = native.function("prefixed_word_starts")


def date_matches(text: str) -> list[re.Match[str]]:
    """``list(_PATTERN.finditer(text))``, trying the pattern only where a date can start.

    Every form of ``_PATTERN`` begins at a word boundary (``\\b`` before a word character), with
    one of ``_START_WORDS``; after a match, the search goes on from its end, as ``finditer``
    does. Compiled scan when built; :func:`date_matches_python` otherwise (the same matches).
    """
    if _word_starts is None:
        return date_matches_python(text)
    match = _PATTERN.match
    out: list[re.Match[str]] = []
    pos = 0
    for start in _word_starts(text, _START_WORDS):
        if start < pos:
            continue  # inside the last match
        m = match(text, start)
        if m is not None:
            out.append(m)
            pos = m.end()
    return out


def date_matches_python(text: str) -> list[re.Match[str]]:
    """The twin of :func:`date_matches`: ``_STARTS`` finds each place where a start begins (at a
    word boundary or inside a word). Where the pattern fails, no match can begin before the end
    of that start (it lies inside a word or a digit run): a start inside a word never matches
    (``_PATTERN`` opens with ``\\b`` before a word character)."""
    match, start = _PATTERN.match, _STARTS.search
    out: list[re.Match[str]] = []
    pos = 0
    while (cand := start(text, pos)) is not None:
        m = match(text, cand.start())
        if m is None:
            pos = cand.end()
        else:
            out.append(m)
            pos = m.end()
    return out


def parse_publish_date(published_at: str | None) -> date | None:
    """Day of an RFC 3339 timestamp as written (its own UTC offset), or ``None``."""
    if not published_at:
        return None
    try:
        return datetime.fromisoformat(published_at.strip().replace("Z", "+00:00")).date()
    except ValueError:
        return None


def _month(token: str) -> int:
    return _MONTHS[token.rstrip(".").lower()[: 4 if token.lower().startswith("sept") else 3]]


def _closest_year(month: int, day: int, ref: date) -> date | None:
    best: date | None = None
    for year in (ref.year - 1, ref.year, ref.year + 1):
        try:
            cand = date(year, month, day)
        except ValueError:
            continue
        if best is None or abs((cand - ref).days) < abs((best - ref).days):
            best = cand
    return best


def _resolve(m: re.Match[str], ref: date | None) -> date | None:
    try:
        if m.group("iso"):
            return date(int(m.group("iy")), int(m.group("im")), int(m.group("id")))
        if m.group("md") or m.group("dm"):
            month = _month(m.group("m1") or m.group("m2"))
            day = int(re.sub(r"\D", "", m.group("d1") or m.group("d2")))
            year = m.group("y1") or m.group("y2")
            if year:
                return date(int(year), month, day)
            return _closest_year(month, day, ref) if ref else None
    except ValueError:
        return None
    if ref is None:
        return None
    if m.group("rel"):
        phrase = " ".join(m.group("rel").lower().split())
        return ref + timedelta(days=_REL_DAYS.get(phrase, 0))
    if m.group("wk"):
        target = _WEEKDAYS[m.group("wd").lower()]
        mod = (m.group("wmod") or "").lower()
        if mod == "next":
            return ref + timedelta(days=(target - ref.weekday() - 1) % 7 + 1)
        back = (ref.weekday() - target) % 7
        if mod == "last" and back == 0:
            back = 7
        return ref - timedelta(days=back)
    if m.group("week"):
        sign = -1 if m.group("wkmod").lower() == "last" else 1
        return ref + timedelta(days=7 * sign)
    return None


def find_dates(text: str, published: date | None) -> tuple[DateMention, ...]:
    """Date mentions in ``text`` in order of appearance, resolved to ISO days."""
    out: list[DateMention] = []
    for m in date_matches(text):
        resolved = _resolve(m, published)
        if resolved is not None:
            out.append(DateMention(text=m.group(0), date=resolved.isoformat(), offset=m.start()))
    return tuple(out)
