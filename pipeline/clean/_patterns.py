"""Patterns for site chrome found in article text, grouped by kind.

Every pattern is anchored or bounded and free of nested quantifiers, so matching a 100k-char line
stays linear. ``LINE_PATTERNS`` match a whole unit (a line or paragraph) that is chrome;
``SENTENCE_PATTERNS`` match one sentence of chrome glued inside a longer paragraph.
:func:`match_kind` searches a pattern only when the text contains one of the literals every match
of it must contain (derived from the pattern itself, :mod:`pipeline.clean._prefilter`); the
clause and sentence ends are tested on the last characters (:func:`ends_terminal`,
:func:`ends_sentence`, same answers as ``TERMINAL`` and ``SENTENCE_END``).
"""

from __future__ import annotations

import re
from functools import lru_cache

from pipeline import native
from pipeline.clean._prefilter import may_match, required_substrings

# The patterns are written in lower case and matched against the lower-cased text: Python's
# ``re.IGNORECASE`` made the scan about 2.5 times slower.
_F = 0

# Kinds reported in CleanedArticle.removed.
COOKIE = "cookie"
DISCLAIMER = "disclaimer"
NEWSLETTER = "newsletter"
SHARE = "share"
ADVERTISEMENT = "advertisement"
RELATED = "related"
PHOTO_CREDIT = "photo_credit"
COPYRIGHT = "copyright"
TEASER = "teaser"
CHROME = "chrome"  # short navigation-like or foreign-language lines
ERROR_PAGE = "error_page"
PAYWALL = "paywall"
TITLE = "title"

_COOKIE = (
    r"\b(?:uses?|using|use of|accept(?:ing)?|allow|consent to(?: the use of)?|store|place)\s+(?:all\s+)?"
    r"(?:our\s+|the\s+|third[- ]party\s+)?cookies\b"
    r"|\bcookie\s+(?:policy|settings|preferences|consent|notice|banner|statement)\b"
    r"|\bcookies?\s+(?:to|help|are used|enable)\b.{0,80}\b(?:experience|analy[sz]e|personali[sz]e|traffic)"
    r"|\bwe(?:'ll| will) assume you(?:'re| are) ok with this\b"
    r"|\bcookie-?(?:richtlinie|einstellungen|hinweis)|\bverwendet cookies\b|\butiliza(?:mos)? cookies\b"
)
_DISCLAIMER = (
    r"^\s*(?:post\s+)?disclaimer\b"
    r"|\bauto[- ]?generated from (?:a |the )?syndicat"
    r"|\bhas not been edited by\b"
    r"|\b(?:published|generated) from a syndicated feed\b"
    r"|\bwe make no representations or warranties\b"
    r"|\b(?:views|opinions) expressed (?:in this|here|by)\b.{0,60}"
    r"\b(?:do not|don't) (?:necessarily )?reflect\b"
    r"|\bthis (?:story|article|content) (?:was|has been) (?:automatically )?(?:generated|produced|created) "
    r"(?:by|using|with) (?:an? )?(?:ai|automated|technology|software)\b"
)
_NEWSLETTER = (
    r"\b(?:sign|signing) up (?:for|to) (?:our|the|a)\b.{0,60}"
    r"\b(?:newsletter|briefing|alerts?|digest|emails?)\b"
    r"|^\s*(?:subscribe|sign up|register|join)\b.{0,80}$"
    r"|\b(?:subscribe|subscription|subscribers?)\b.{0,40}\b(?:today|now|only|unlimited|access|offer)\b"
    r"|\bnewsletters?\b"
    r"|\bin your inbox\b|\bdelivered to your inbox\b"
    r"|\balready (?:a subscriber|have an account|registered)\b"
    r"|\b(?:log|sign) in to (?:continue|read|comment)\b|\bcreate (?:a )?free account\b"
    r"|\bsupport (?:our|independent|quality) journalism\b"
    r"|\bunlimited (?:digital )?access\b"
    r"|\babonnieren\b|\bsuscr[ií]bete\b|\babonnez-vous\b"
    r"|\bplease subscribe\b|\bsubscribers? (?:also )?receive\b"
    r"|\b(?:instant|immediate) (?:online )?access to\b"
    r"|\bdownload (?:the|our) [\w.-]+(?: [\w.-]+)? apps?\b|\bpush notifications\b"
)
_SHARE = (
    r"^\s*(?:share|tweet|email|e-mail|print|save|pin|whatsapp|facebook|twitter|linkedin|reddit|copy link|"
    r"comments?|reply|like|follow(?: us)?)(?:\s+(?:this|on|via|article|story|page|us|link|it))*"
    r"\s*[:!.]?\s*(?:\(\d+\))?$"
    r"|^\s*(?:share|follow|find|like|connect with) (?:us|this (?:article|story|post)) on\b"
    r"|^\s*(?:share|print|email|save) (?:this|the) (?:article|story|page|post)\b"
    r"|\b(?:leave|post|add|write|view|show|read) (?:a |your |all )?(?:\d+ )?comments?\b"
    r"|\bclick (?:here )?to (?:share|print|email|comment|tweet)\b"
    r"|\bnotify me of (?:follow-up comments|new posts)\b"
    r"|\bcomments? (?:are|is) (?:closed|moderated)\b|\bthere are no comments\b"
    r"|^\s*(?:(?:facebook|twitter|x|linkedin|whatsapp|reddit|email|pinterest|telegram|flipboard|print)"
    r"[\s,|/·•]*){2,}$"
    r"|\byour email address will not be published\b|\brequired fields are marked\b"
    r"|\bsave my name,? email\b|\bnotify me (?:of|when)\b|^\s*leave a (?:reply|comment)\b|\bcancel reply\b"
    r"|\bplease enter your (?:name|email|comment)\b|\bcomments? (?:are|is|will be) (?:reviewed|approved)\b"
    r"|\bcomments? may be (?:republished|edited)\b|^\s*(?:like (?:it|this)\?\s*)?share (?:it|this)\s*!?$"
    r"|\b(?:kommentar(?:e)? (?:schreiben|verfassen)|schreibe einen kommentar|teilen sie|folgen sie uns)\b"
)
_ADVERTISEMENT = (
    r"^\s*(?:advertisement|advertising|advert|ad|ads|sponsored(?: content)?|paid content|promoted|"
    r"story continues below(?: advertisement)?|article continues below(?: advertisement)?|"
    r"continue reading below|"
    r"scroll to continue(?: with content)?|skip (?:advert|ad)|werbung|anzeige|publicidad|publicit[eé])"
    r"\s*[:.\-]?\s*$"
)
_RELATED = (
    r"^\s*(?:read more|read also|also read|see also|more|related|recommended|trending|"
    r"most (?:read|popular|viewed)|"
    r"you (?:may|might) also like|more (?:from|on|in|stories|news|articles)|related (?:articles?|stories|"
    r"coverage|news|content|posts?|topics|links)|further reading|what to read next|top stories|"
    r"lesen sie auch|mehr zum thema|das k[öo]nnte sie auch interessieren|lea tambi[ée]n|lee tambi[ée]n|"
    r"lire aussi|[àa] lire aussi|leggi anche)\b.{0,200}$"
    r"|^\s*(?:read|watch|listen|continue reading)(?: the)? (?:full|more|next|story|article|here)\b.{0,120}$"
    r"|\bread more\s*$|^\s*read the original(?: article| story| post| version)?\s*[.!]?\s*$"
)
_PHOTO = (
    r"^\s*\(?(?:photos?|images?|pictures?|pic|credits?|photo credit|image credit|source|video|graphic|"
    r"illustration|foto|fotos|bild|bilder|quelle)\s*[:/|]\s*.{0,120}$"
    r"|^\s*\(?(?:ap|afp|reuters|getty|epa|ansa|dpa)(?: photo)?\s*/.{0,80}$"
    r"|(?:getty images|shutterstock(?:\.com)?|istock(?:photo)?|alamy|ap photo|afp via getty images|"
    r"reuters/[\w .]+|picture alliance|imago)\s*\)?\s*$"
    # a caption ending in its credit: "... in Kostrel. Photo: Ivan Sokor/Meridian Wire",
    # "... near Zaresh. (CPA Photo/Mira Hollis)", "... in Seltham. (Halden Business Wire/Jonas Berg)"
    r"|[.!?]\s+\(?(?:photo|picture|image|foto)s?(?: credit)?\s*:\s*[^.:]{2,60}$"
    r"|\((?:[a-z][\w.'’&-]*\s+){0,4}(?:photo|pictures?|images?)\s*/\s*[a-z][\w.'’-]*(?:\s+[a-z][\w.'’-]*){0,3}\s*\)\s*$"
    r"|[.!?]\s+\((?:[a-z][\w.'’&-]*\s+){1,4}[a-z][\w.'’&-]*\s*/\s*[a-z][\w.'’-]*(?:\s+[a-z][\w.'’-]*){1,3}\s*\)\s*$"
)
# A wire story's staff credit: "Reporting by Tomasz Reichel; editing by Ada Munro".
_STAFF_CREDIT = (
    # two credits ("Reporting by A; editing by B"), or one reporting credit without a full stop
    r"^\s*\(?(?:additional )?(?:reporting|writing|editing)(?: and (?:reporting|writing|editing))? by "
    r"(?:[\w'’.-]+ ){0,4}[\w'’.-]+[;,] (?:additional )?(?:reporting|writing|editing)(?: and (?:writing|"
    r"editing))? by (?:[\w'’.-]+ ){0,4}[\w'’.-]+\)?\s*\.?\s*$"
    r"|^\s*\(?(?:additional )?reporting by (?:[\w'’-]+ ){0,4}[\w'’-]+\)?\s*$"
)
_COPYRIGHT = (
    r"^\s*(?:©|\(c\)|copyright\b)|^\s*our standards\s*:"
    r"|\b(?:proudly )?powered by (?:wordpress|blogger|drupal|ghost)\b|\bforum software by\b"
    r"|\bthis copy is for your personal,? non-commercial use\b|\border (?:presentation-ready )?reprints\b"
    r"|\ball rights reserved\b|\balle rechte vorbehalten\b|\btodos los derechos reservados\b"
    r"|\b(?:terms of (?:use|service)|privacy policy|datenschutz(?:erkl[äa]rung)?|impressum)\b"
)

LINE_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    (COOKIE, re.compile(_COOKIE, _F)),
    (DISCLAIMER, re.compile(_DISCLAIMER, _F)),
    (NEWSLETTER, re.compile(_NEWSLETTER, _F)),
    (SHARE, re.compile(_SHARE, _F)),
    (ADVERTISEMENT, re.compile(_ADVERTISEMENT, _F)),
    (RELATED, re.compile(_RELATED, _F)),
    (PHOTO_CREDIT, re.compile(_PHOTO, _F)),
    (PHOTO_CREDIT, re.compile(_STAFF_CREDIT, _F)),
    (COPYRIGHT, re.compile(_COPYRIGHT, _F)),
)

# Short full sentences: only wording of comment forms, sign-up prompts and footers, which never
# reads as reporting (a sentence merely mentioning a newsletter or comments is kept).
FORM_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        SHARE,
        re.compile(
            r"\byour email address will not be published\b|\brequired fields are marked\b"
            r"|\bsave my name,? email\b|\bnotify me (?:of|when)\b|^\s*leave a (?:reply|comment)\b"
            r"|\bcancel reply\b|\bplease enter your (?:name|email|comment)\b"
            r"|\bcomments? (?:are|is) (?:closed|moderated)\b|\bcomments? may be (?:republished|edited)\b"
        ),
    ),
    (
        NEWSLETTER,
        re.compile(
            r"^\s*(?:sign up|subscribe) (?:for|to) (?:our|the)\b|\bplease subscribe\b"
            r"|\bsubscribers? (?:also )?receive\b|\b(?:instant|immediate) (?:online )?access to\b"
            r"|\bdownload (?:the|our) [\w.-]+(?: [\w.-]+)? apps?\b|\bpush notifications\b"
            r"|\bdelivered to your inbox\b|\balready (?:a subscriber|have an account)\b"
        ),
    ),
    (
        COPYRIGHT,
        re.compile(
            r"^\s*(?:©|\(c\)|copyright\b)|\ball rights reserved\b|\bpowered by (?:wordpress|blogger)\b"
        ),
    ),
)

# A wire service's rights footer ("All rights reserved. This material may not be published,
# broadcast, rewritten or redistributed."), glued to a paragraph or standing alone.
_RIGHTS = (
    r"\ball rights reserved\b"
    r"|\bmay not be (?:re)?(?:published|produced), broadcast, rewritten,? (?:or|and) redistributed\b"
)

# Notices of automatic republishing, for the first and last units of an article only (there they
# are chrome; inside the body the same words could be reporting about automation).
_EDGE_DISCLAIMER = (
    r"^\s*automated content\s*:"
    r"|\b(?:this|the) (?:article|story|content|report|post|text|item)\b.{0,80}"
    r"\b(?:generated|produced|created|compiled|written|rewritten|republished|translated)\b.{0,40}"
    r"\b(?:automatically|by (?:a |an )?(?:machine|computer|algorithm|software|bot|automated system|ai))\b"
    r"|\bautomatically (?:republishes|rewrites|publishes|translates)\b.{0,40}\b(?:stories|articles|content)\b"
    r"|\bnot (?:been )?(?:written|checked|reviewed|verified|edited)"
    r"(?: or (?:written|checked|reviewed|verified|edited))?"
    r" by (?:a member of |any of |one of )?our (?:staff|team|editors?|journalists?|newsroom|reporters?)\b"
    r"|\bour (?:staff|editors?|journalists?|newsroom|team) (?:have|has|did) not"
    r" (?:written|checked|reviewed|verified|edited)\b"
    r"|\b(?:re)?published without (?:any )?(?:editorial|human) (?:review|oversight|checks?|editing)\b"
    r"|^\s*(?:this|the) (?:article|story|piece|post|report) (?:was )?(?:originally|first)"
    r" (?:appeared|published|ran|posted)\b"
)
EDGE_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    (DISCLAIMER, re.compile(_DISCLAIMER, _F)),
    (DISCLAIMER, re.compile(_EDGE_DISCLAIMER, _F)),
    (COOKIE, re.compile(_COOKIE, _F)),
)

# Prompts addressed to the reader, unambiguous in full sentences of up to 20 words anywhere.
LONG_FORM_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    (PHOTO_CREDIT, re.compile(_STAFF_CREDIT, _F)),
    (
        SHARE,
        re.compile(
            r"^\s*(?:follow|like|find|connect with) us on\b"
            # "Follow Fairline Sport on Instagram and TikTok for ...": a follow prompt names a network
            r"|^(?![^\n]*\b(?:said|says|told)\b)\s*(?:follow|subscribe to) "
            r"(?:[\w'’&@-]+ ){1,5}on (?:facebook|twitter|x|"
            r"instagram|tiktok|linkedin|youtube|threads|bluesky|whatsapp|telegram|snapchat|mastodon|"
            r"flipboard|google news|apple news)\b"
            # the same with any network name, when the prompt says what following brings
            r"|^(?![^\n]*\b(?:said|says|told)\b)\s*follow (?:[\w'’&@-]+ ){1,5}on [\w.-]+ "
            r"(?:for (?:the latest|more|live|all|breaking|updates|news|goals|company|daily)"
            r"|to (?:get|see|stay))\b"
        ),
    ),
    (
        NEWSLETTER,
        re.compile(
            r"\bclick here to (?:subscribe|sign up|register|join|download)\b"
            # a newsletter box's blurb: "A weekly email about ... Free for registered readers."
            r"|^\s*(?:a|our) (?:free )?(?:daily|weekly|monthly|fortnightly|twice-weekly) "
            r"(?:e-?mail|newsletter|digest)(?![^.!?]*\b(?:was|were|is|are|has|had|will|would|said|says)\b)"
            r"(?: (?:about|on|with|covering|for) [^.!?]{0,100})?\s*(?:[.!]|$)"
            r"|^\s*free (?:for|to) (?:all )?(?:registered )?(?:readers|users|subscribers|members)\s*[.!]?\s*$"
            r"|\b(?:in|to) your inbox\b.{0,60}\bsign up\b|\bsign up\b.{0,60}\b(?:in|to) your inbox\b"
            r"|^\s*sign up (?:for|to) (?:our|the)\b.{0,60}\b(?:newsletter|briefing|digest|alerts)\b"
            r"|^\s*(?:have|got) a (?:news )?tip\b.{0,80}\b(?:email|e-mail|contact|send|write to|reach)\b"
            r"|\bsubscrib(?:e|ing) to our (?:[\w-]+ )?newsletter\b"
        ),
    ),
)

# Inside long paragraphs, only sentence-level notices that are unambiguous wherever they appear.
SENTENCE_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    (COOKIE, re.compile(_COOKIE, _F)),
    (DISCLAIMER, re.compile(_DISCLAIMER, _F)),
    (COPYRIGHT, re.compile(_RIGHTS, _F)),
)

# What an error page or a paywall says in place of an article. Only asked of the short units of a
# body that is nearly empty otherwise (:mod:`pipeline.clean._substance`): there such a sentence is
# the page's message, not reporting.
_ERROR_PAGE = (
    r"\b(?:page|article|story|content|url|link|file)s? (?:that )?you (?:were|are|have been) "
    r"(?:looking|searching) for\b"
    r"|\b(?:page|article|story|url|file)s? (?:you )?requested (?:was|is|could|can|cannot|does)\b"
    r"|\b(?:page|article|story|url|file|content) (?:was )?not found\b"
    r"|\b(?:page|article|story|url|content) (?:could not|couldn't|cannot|can ?not|can't) be "
    r"(?:found|displayed)\b"
    r"|\b(?:page|article|story|url|link) (?:does not|doesn't|no longer|did not|may not|might not) exists?\b"
    r"|\bthis (?:page|article|story|content|link) (?:is|was|has been|may have been|might have been) "
    r"(?:no longer available|unavailable|removed|deleted|moved|expired|taken down)\b"
    r"|\b(?:page|article|story|content|link) (?:may|might) have been (?:removed|deleted|moved|renamed)\b"
    r"|\b(?:error|http)\s?(?:400|403|404|410|500|503)\b"
    r"|\b(?:404|410)\b.{0,20}\b(?:not found|error|gone|page)\b"
    r"|\bseite (?:wurde )?nicht gefunden\b|\bp[aá]gina no encontrada\b|\bpage introuvable\b"
    r"|\bpagina non trovata\b"
    r"|^\s*(?:back|return|go back) to (?:the )?(?:home ?page|home|front page|start page|main page)\W*$"
)
_PAYWALL = (
    r"\bsubscribe (?:now |today )?(?:to|and) (?:unlock|read|continue|keep reading|access|view|get)\b"
    r"|\b(?:unlock|continue reading|keep reading) (?:this|the full|the rest of (?:this|the)) "
    r"(?:article|story|piece|report)\b"
    r"|\bunlimited (?:digital )?access\b|\bcancel (?:at )?any ?time\b"
    r"|\bsubscribers[- ]only\b|\b(?:for|to) (?:paying )?subscribers only\b|\bsubscription (?:is )?required\b"
    r"|\b(?:article|story|content) is (?:only )?(?:available|reserved|exclusive) (?:to|for) "
    r"(?:our )?(?:paying )?(?:subscribers|members)\b"
    r"|\balready (?:a subscriber|have an account|registered)\b"
    r"|\b(?:sign|log) ?in to (?:continue|read|keep reading|access)\b"
)
PAGE_NOTICE_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    (ERROR_PAGE, re.compile(_ERROR_PAGE, _F)),
    (PAYWALL, re.compile(_PAYWALL, _F)),
)

# "PRECARIOUS RELATIONS:" / "TERRORIST ATTACK:" kicker that opens a teaser.
KICKER = re.compile(r"^\W{0,2}[A-Z][A-Z0-9'’‘\-&.]{1,30}(?: [A-Z0-9'’‘\-&.]{1,30}){0,5}\W{0,2}:\s")

# Full stops, closing quotes and brackets of Chinese and Japanese text count too.
TERMINAL = re.compile(r"""[.!?…:;"”’'»)\]。！？：；」』）]\s*$""")
SENTENCE_END = re.compile(r"""[.!?…。！？]["”’'»)\]」』）]*\s*$""")
_TERMINAL_CHARS = frozenset(".!?…:;\"”’'»)]。！？：；」』）")
_SENTENCE_END_CHARS = frozenset(".!?…。！？")
_CLOSERS = "\"”’'»)]」』）"


def ends_terminal(text: str) -> bool:
    """Same as ``TERMINAL.search(text)``: the last non-space character ends a clause."""
    end = text.rstrip()
    return bool(end) and end[-1] in _TERMINAL_CHARS


def ends_sentence(text: str) -> bool:
    """Same as ``SENTENCE_END.search(text)``: a full stop, maybe followed by closing quotes."""
    end = text.rstrip().rstrip(_CLOSERS)
    return bool(end) and end[-1] in _SENTENCE_END_CHARS


# Sentence splitter: split after . ! ? (optionally followed by a closing quote) before a capital.
SENTENCE_SPLIT = re.compile(r"""(?<=[.!?…])["”’'»)\]]?\s+(?=["“‘'«(\[]?[A-Z0-9À-ÖØ-Þ])""")
WORD = re.compile(r"\w+")


_STRONG_HINTS = (
    "cookie",
    "disclaim",
    "syndicat",
    "edited by",
    "warrant",
    "expressed",
    "generated",
    "produced",
    "created",
    "assume you",
    "rights reserved",
    "broadcast,",
)


def has_strong_hint(text: str, *, low: str | None = None, hits: int | None = None) -> bool:
    """Cheap pre-check: can a cookie/disclaimer pattern match ``text`` at all?

    ``low`` is ``text.lower()`` when the caller has it already (see :func:`match_kind`);
    ``hits`` is ``needle_hits(low)`` when the caller has it (then nothing is scanned again).
    """
    if hits is not None:
        return bool(hits & _STRONG_BIT)
    if low is None:
        low = text.lower()
    return any(map(low.__contains__, _STRONG_HINTS))


Patterns = tuple[tuple[str, re.Pattern[str]], ...]
# (kind, pattern, required substrings or None, the bit of those in ``needle_hits``; 0 for None)
_Gated = tuple[tuple[str, re.Pattern[str], tuple[str, ...] | None, int], ...]

# The literal groups a unit is scanned for at once (``needle_hits``): the strong hints, then the
# pre-filter strings of every gated pattern (equal tuples share a bit).
_NEEDLE_GROUPS: list[tuple[str, ...]] = [_STRONG_HINTS]
_STRONG_BIT = 1


def _bit(required: tuple[str, ...] | None) -> int:
    if required is None:
        return 0
    if required not in _NEEDLE_GROUPS:
        _NEEDLE_GROUPS.append(required)
    return 1 << _NEEDLE_GROUPS.index(required)


def _with_required(patterns: Patterns) -> _Gated:
    """``(kind, pattern, required, bit)``: the substrings one of which every match of the
    pattern contains (see :mod:`pipeline.clean._prefilter`), and their bit in ``needle_hits``."""
    gated = []
    for kind, pattern in patterns:
        required = required_substrings(pattern)
        gated.append((kind, pattern, required, _bit(required)))
    return tuple(gated)


# The groups above with their pre-filter strings, keyed by the group's id: hashing a compiled
# pattern hashes its whole compiled program (1-2 us for the long patterns here, more than the
# pre-filter itself), and hashing a group would hash each of its patterns. The entry keeps the
# group, so its id cannot be reused while the entry exists; :func:`match_kind` checks it is the same.
_GATED: dict[int, tuple[Patterns, _Gated]] = {
    id(group): (group, _with_required(group))
    for group in (
        LINE_PATTERNS,
        FORM_PATTERNS,
        LONG_FORM_PATTERNS,
        SENTENCE_PATTERNS,
        EDGE_PATTERNS,
        PAGE_NOTICE_PATTERNS,
    )
}


def _gated(patterns: Patterns) -> _Gated:
    """``patterns`` with their pre-filter strings; another group is searched without a pre-filter."""
    entry = _GATED.get(id(patterns))
    if entry is not None and entry[0] is patterns:
        return entry[1]
    return tuple((kind, pattern, None, 0) for kind, pattern in patterns)


def _first_kind(low: str, gated: _Gated, hits: int | None = None) -> str | None:
    if hits is None:
        for kind, pattern, required, _ in gated:
            if may_match(low, required) and pattern.search(low):
                return kind
        return None
    for kind, pattern, _, bit in gated:
        if (not bit or hits & bit) and pattern.search(low):
            return kind
    return None


# One pass over a unit finds which of the groups occur: the strong hints and the pre-filter
# strings of every pattern, about 25 groups of 150 strings in all. Scanning for each string in
# turn (``str.__contains__``) cost about 2.5 us for the strong hints and 5-10 us for the patterns
# of the article's edges on a paragraph of 285 characters: a quarter of the plain-text stage.
assert len(_NEEDLE_GROUPS) <= 64
_hits_kernel = native.function("needle_hits")
_table_kernel = native.function("needle_table")
_NEEDLE_TABLE = _table_kernel(_NEEDLE_GROUPS) if _table_kernel is not None else None


def needle_hits(low: str) -> int | None:
    """The bits of the groups of literals found in lower-cased ``low`` (:func:`needle_hits_python`)
    by the compiled kernel; None when it is not built (the callers then test each group when they
    need it, which costs less in Python than testing every group up front)."""
    if _hits_kernel is None:
        return None
    return int(_hits_kernel(low, _NEEDLE_TABLE))


def needle_hits_python(low: str) -> int:
    """The pure-Python twin of the ``needle_hits`` kernel: bit ``g`` is set when a string of group
    ``g`` of ``_NEEDLE_GROUPS`` is in ``low``."""
    return sum(1 << g for g, group in enumerate(_NEEDLE_GROUPS) if any(map(low.__contains__, group)))


# Short lines recur: the same chrome line ("Share this article: Facebook Twitter Email") in every
# article of a site, a copy of a story, a headline read by both the leading-chrome and the header
# checks. Their verdict against the line patterns (about 150 pre-filter strings) is kept, keyed by
# the lower-cased line: it depends on nothing else.
_CACHED_LINE_CHARS = 300
_LINE_GATED = _gated(LINE_PATTERNS)


@lru_cache(maxsize=4096)
def _line_kind(low: str) -> str | None:
    return _first_kind(low, _LINE_GATED)


def match_kind(
    text: str, patterns: Patterns = LINE_PATTERNS, *, low: str | None = None, hits: int | None = None
) -> str | None:
    """First boilerplate kind whose pattern matches ``text``, else ``None``.

    ``low`` is ``text.lower()`` when the caller has it already: a unit is tested against several
    groups, and lower-casing it once saves a copy per group. ``hits`` is ``needle_hits(low)``
    when the caller has it: the pre-filters are then read from its bits.
    """
    if low is None:
        low = text.lower()
    if patterns is LINE_PATTERNS and len(low) <= _CACHED_LINE_CHARS:
        return _line_kind(low)
    return _first_kind(low, _gated(patterns), hits)
