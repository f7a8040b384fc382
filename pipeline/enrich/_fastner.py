"""Fast rule-based entity mentions (the default ``ner="fast"`` mode; no model, no spaCy import).

Candidates are runs of capitalised tokens found by one compiled regex: words (with hyphenated or
apostrophe parts: "Kassym-Jomart", "O'Brien", "Shai-mukhambetov"), initials and dotted acronyms
("W.", "U.S."), "al-"/"el-" particles, joined by single spaces or by connectors ("of", "de", "van",
"bin"...). The regex has no nested ambiguous quantifiers (tokens start with a capital, connectors
with a lower-case letter), so it runs in linear time on any input.

Each run is then cleaned and typed with a handful of rules:

* split at capitalised function words ("U.S. The") and calendar words; "X of Y" stays one name only
  when X ends in an organisation or place cue ("Ministry of Defense", "Gulf of Aden");
* a run at a sentence start loses its first word when that word is a common word (jusText's English
  stop list) or is unknown while the rest is a known place or nationality ("Protesting Kazakh");
* title words ("President", "Gen.", "engineer"...) before or inside the run make the rest a person;
* the place resolver's countries, regions and cities are places; nationality words are "other";
* organisation cue words ("Ministry", "Bank", "Party", "Treaty"...) and bare acronyms are
  organisations; place cue words ("River", "Street") are places;
* a known first name, a middle initial, or a 2-3 word name next to "said"/"told" is a person;
  other multi-word names are persons too (the commonest case in news), single words "other"
  (they usually join a person's full name as a surname in :func:`group_items`).
"""

from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources

from pipeline.enrich._entities import TITLES, Mention
from pipeline.enrich._places import PlaceResolver
from pipeline.enrich._types import EntityType

_UP = "A-ZÀ-ÖØ-ÞĀĂĄĆČĎĐĒĖĘĚĞĢĪĮİĶĹĻĽŁŃŅŇŌŐŒŔŘŚŞŠŢŤŪŮŰŲŹŻŽ"
_NOT_SUFFIX = (
    r"(?!(?:led|based|backed|born|style|era|made|owned|run|controlled|friendly|speaking|bound|"
    r"linked|allied|funded|sponsored|wide|like|related|inspired|dominated|held|occupied|"
    r"registered|flagged|listed|trained|made|educated)\b)"
)
_WORD = rf"(?:[{_UP}]\w*(?:['’][{_UP}]\w+)?(?:-{_NOT_SUFFIX}\w+)*)"
_ABBR = rf"(?:(?:Mr|Mrs|Ms|Dr|Gen|Lt|Col|Sgt|Capt|Gov|Sen|Rep|Prof|St|Jr|Sr|Mt|Ft)\.|(?:[{_UP}]\.){{1,4}})"
_PARTICLE = rf"(?:(?:al|el|ad|as|ash|ul|bin|ibn|abu|d)[-’'][{_UP}]\w*)"
_TOKEN = rf"(?:{_ABBR}|{_WORD}|{_PARTICLE})"
_CONNECTOR = r"(?:of|of the|for|de|del|della|da|das|dos|di|du|van|van der|von|der|den|le|la|bin|ibn|y)"
# One span: tokens separated by a single space or by " connector ".
# Frequent capitalised function words that start sentences; a run does not start with one (the
# run starts at the next capitalised word instead), which skips most runs that are no names.
_NOT_FIRST = (
    r"(?!(?:The|He|In|It|She|But|A|We|This|After|They|On|There|While|Her|As|And|No|That|At|With|For|"
    r"An|Now|However|By|During|When|To|Some|So|His|Of|These|Most|About|Several|Many|Under|If|Its|"
    r"Their|Our|Then|Also|Even|Both|Each|Those|What|Which|Who|Where|Why|How|I|You|Yet|Or|Since|"
    r"Before|Although|Though|Because|Meanwhile|Instead|Still)\b)"
)
_SPAN = re.compile(
    # a capital or a particle ("al-") first: a cheap check before the function-word lookahead
    rf"(?<![\w’'-])(?=[{_UP}]|[abdeiu][a-z]{{0,2}}[-’']){_NOT_FIRST}"
    rf"{_TOKEN}(?:[ \u00a0](?:{_CONNECTOR}[ \u00a0])?{_TOKEN})*"
)
_TOKEN_RE = re.compile(rf"{_TOKEN}|\S+")
_INITIAL = re.compile(r"(?:[.!?:;]['\"’”)\]]*\s+|\n\s*|[“\"‘'(\[–—-]\s*)$")  # see _is_initial
_ENDS = frozenset(".!?:;")
_CLOSERS = "'\"’”)]"
_OPENERS = frozenset("“\"‘'([–—-")
_NEXT_WORD = re.compile(r"['’]s\b|\W*(\w+)")
_ACRONYM = re.compile(rf"(?:[{_UP}]{{2,6}}s?|(?:[{_UP}]\.){{2,4}})")
_POSSESSIVE = re.compile(r"(?:['’]s|['’])$")  # see _strip_possessive

_SPEECH = frozenset({"said", "says", "told", "added", "stated", "explained", "insisted", "wrote", "tweeted"})
_ORG_CONTEXT = frozenset({"the", "The", "from", "at", "by", "with", "against", "joined", "for"})
# Religious, political and regional group words (spaCy's NORP without a country).
_GROUPS = frozenset(
    """soviet soviets muslim muslims christian christians jewish jews catholic catholics protestant
    arab arabs islamic islamist sunni shiite shia kurdish kurds democrat democrats republican
    republicans western european europeans african africans asian asians latino latinos hispanic
    buddhist hindu communist communists socialist socialists conservative conservatives liberal
    liberals""".split()
)
# Calendar words, time zones and a few capitalised common nouns: never (part of) a name here.
_CALENDAR = frozenset(
    "monday tuesday wednesday thursday friday saturday sunday january february march april may june "
    "july august september october november december jan feb mar apr jun jul aug sep sept oct nov dec "
    "i am pm et edt est pdt pst cdt cst gmt utc bst cet christmas easter thanksgiving halloween "
    "ramadan hanukkah tv web internet ok".split()
)
_ORG_CUES = frozenset(
    """organization organisation ministry bank inc inc. corp corp. corporation co co. ltd ltd. llc plc
    party council agency university college school institute institution foundation fund treaty
    committee commission union association federation league club group company forces force army
    navy police court parliament assembly congress senate department office bureau authority board
    service services news times post journal press agency network channel tv radio airlines airways
    motors industries technologies systems holdings partners media times guardian reuters nato
    alliance coalition front movement church hospital center centre museum society academy
    government administration cabinet secretariat command guard brigade regiment battalion corps
    exchange reserve trust group republicans democrats house academy awards reporter magazine studios
    pictures records entertainment productions communications airlines bancorp fc""".split()
)
# Tokens that keep "X of Y" together (the left part of an organisation or place name).
_OF_CUES = _ORG_CUES | frozenset(
    "gulf horn sea bay cape isle isles strait straits republic kingdom state states city province region "
    "prince princess duke king queen emirate sultanate lake mount university".split()
)
_PLACE_CUES = frozenset(
    """river lake mount mountains mountain street square island islands valley county province region
    district airport bridge avenue park sea ocean bay gulf strait desert peninsula coast hill hills
    road highway canal palace square plaza station beach springs heights""".split()
)
_PLACE_PREFIXES = frozenset(
    "mount mt lake santa san los las fort port saint st. southern northern eastern western central".split()
)
# Words that form a title with the title word after them ("Prime Minister", "Attorney General").
_TITLE_MODIFIERS = frozenset(
    """prime foreign vice deputy defense defence finance interior former acting state attorney chief
    home trade health education energy justice labor labour economy culture first supreme grand
    senior junior assistant associate executive managing""".split()
)
# A compact first-name list (written for this module): common given names in international news.
_FIRST_NAMES = frozenset(
    """aaron abdul abdullah adam adrian ahmed ahmad aisha akira alan albert alberto alejandro alex
    billy bobby danny ed jim jimmy johnny mike tommy
    alexander alexandra alexei alexey ali alice alicia amanda amir amy ana anders andrea andreas andrei
    andrew andrey andy angela angelina ann anna anne anthony antonio antony arnold arthur barack
    barbara ben benjamin bernard bill bob boris brad brian bruce carl carlos caroline catherine charles
    charlie chris christian christina christine christopher claire claudia daniel david dennis diana
    diego dmitry dmitri donald dong douglas edward elena elizabeth emily emma emmanuel eric erik
    fatima fernando francesco francis francisco frank fran\u00e7ois frederick gabriel gary george
    gerhard giorgio giuseppe gordon greg gregory hans harry hassan heinz helen henry hillary hiroshi
    hugo hussein ibrahim igor ilham irina isabel ivan jack jacob james jane janet jason javier jean
    jeff jennifer jeremy jessica jim joe johann john jonathan jorge jos\u00e9 jose joseph joshua juan
    julia julian julie justin karen karim kassym kate katherine kelly ken kenneth kevin khalid kim
    kurt lars laura lee leonid li linda lisa liu louis lucas luis mahmoud malik marco margaret maria
    marie mario mark martin mary matteo matthew max michael michel michelle miguel mikhail mohamed
    mohammad mohammed muhammad nancy narendra natalia nathan nicholas nicola nicolas nikolai nina
    nursultan olaf oleg olga omar oscar pablo patricia patrick paul pedro peter philip pierre rachel
    rafael rahul raj ramzan raul rebecca recep richard rick robert roberto roger ronald rosa ruth ryan
    sam samuel sandra sara sarah scott sebastian serge sergei sergey shinzo simon sofia sophie stephen
    steve steven susan tara thomas tim timothy tom tony usman valentina valery vera victor viktor
    vincent vladimir walter wang wei william xi yang yasser yoshihide yuri yusuf zhang""".split()
)


# Frequent words that also begin names ("New York", "First Bank", "Team Sky"): not split points.
_NAME_STARTERS = frozenset(
    "new first second school family film team area de people one two three number part population age "
    "work name known".split()
)


@lru_cache(maxsize=1)
def common_words() -> tuple[frozenset[str], frozenset[str]]:
    """``(function words, common words)`` from jusText's English stop list (lower-case entries only:
    its capitalised entries are name parts such as "John" or "University"); small fallback."""
    try:
        raw = resources.files("justext").joinpath("stoplists/English.txt").read_text(encoding="utf-8")
        words = [w for w in raw.split() if w.isalpha() and w.islower()]
    except (ModuleNotFoundError, FileNotFoundError, OSError):
        words = []
    fallback = "the a an and but or in on at for with this that these those he she it they we his her".split()
    function = (frozenset(words[:120] or fallback) - _NAME_STARTERS) | frozenset(fallback) | {"however"}
    return function, frozenset(words) | function


def _prev_word(text: str, lo: int, hi: int) -> str | None:
    """The word right before the whitespace that ends ``text[lo:hi]``, or ``None`` when that
    window does not end in whitespace after a word (the regex ``(\\S+)\\s+$``, without one)."""
    window = text[lo:hi]
    if not window or not window[-1].isspace():
        return None
    words = window.split()
    return words[-1] if words else None


def _strip_possessive(name: str) -> str:
    """``name`` without a final "'s" or "'" (``_POSSESSIVE.sub("", name)`` for names, which hold no
    newline)."""
    if name.endswith(("'s", "’s")):
        return name[:-2]
    return name[:-1] if name.endswith(("'", "’")) else name


def _is_initial(text: str, start: int) -> bool:
    """Does a sentence, line or quotation start at ``start``? Within the 6 characters before it:
    a sentence end (closing quotes allowed) and whitespace, a newline and whitespace, or an opening
    quote, bracket or dash and optional whitespace (the regex ``_INITIAL``, without a regex)."""
    if start == 0:
        return True
    window = text[max(0, start - 6) : start]
    body = window.rstrip()
    spaced = len(body) < len(window)  # whitespace before the name
    if spaced and ("\n" in window[len(body) :] or body.rstrip(_CLOSERS)[-1:] in _ENDS):
        return True
    return body[-1:] in _OPENERS if body else False


class FastNer:
    """Rule-based mention finder. Build once per worker; ``mentions`` is pure."""

    def __init__(self, resolver: PlaceResolver) -> None:
        self._places = resolver
        self._function, self._common = common_words()

    def mentions(self, text: str) -> list[Mention]:
        """Entity mentions of ``text`` (offsets into it)."""
        runs: list[tuple[int, list[tuple[int, int, str]], bool]] = []
        seen_inside: set[str] = set()
        for m in _SPAN.finditer(text):
            base = m.start()
            if " " in m[0] or "\u00a0" in m[0]:
                toks = [(t.start() + base, t.end() + base, t.group(0)) for t in _TOKEN_RE.finditer(m[0])]
            else:
                toks = [(base, m.end(), m[0])]
            initial = _is_initial(text, m.start())
            if not initial:
                seen_inside.update(t[2] for t in toks)
            else:
                seen_inside.update(t[2] for t in toks[1:])
            runs.append((m.start(), toks, initial))
        out: list[Mention] = []
        for _start, toks, initial in runs:
            for part in self._split(toks):
                if initial and part[0] is toks[0]:
                    part = self._drop_initial(part, seen_inside)
                if part:
                    out.extend(self._classify(text, part))
        return out

    def _split(self, toks: list[tuple[int, int, str]]) -> list[list[tuple[int, int, str]]]:
        """Cut a run at function/calendar words and at connectors that do not bind a name."""
        parts: list[list[tuple[int, int, str]]] = [[]]
        skip = False
        for tok in toks:
            word = tok[2]
            low = word.casefold()
            if word[:1].isupper():
                if skip:  # "Secretary of State": the word after a title's "of" is part of the title
                    skip = False
                    parts.append([])
                elif low in self._function or low in _CALENDAR:
                    parts.append([])
                else:
                    parts[-1].append(tok)
                continue
            # a lower-case connector: keeps "Ministry of Defense", "Ortega y Gasset", "al-Assad";
            # cuts "Putin of Russia"
            prev = parts[-1][-1][2].casefold().rstrip(".") if parts[-1] else ""
            if low in ("of", "for") and prev not in _OF_CUES:
                skip = prev in TITLES
                parts.append([])
            elif low == "the" and prev not in ("of", "for"):
                parts.append([])
            else:
                parts[-1].append(tok)
        cleaned = []
        for p in parts:
            while p and p[-1][2][:1].islower() and "-" not in p[-1][2]:
                p = p[:-1]
            while p and p[0][2][:1].islower() and "-" not in p[0][2]:
                p = p[1:]
            if p:
                cleaned.append(p)
        return cleaned

    def _drop_initial(
        self, part: list[tuple[int, int, str]], seen_inside: set[str]
    ) -> list[tuple[int, int, str]]:
        first = part[0][2]
        low = first.casefold()
        if low in TITLES or low.rstrip(".") in TITLES:
            return part
        if low in self._common:
            return part[1:]
        if first in seen_inside or _ACRONYM.fullmatch(first) or low in _FIRST_NAMES:
            return part
        if self._places.resolve(first)[1] is not None or self._places.demonym(first):
            return part
        if len(part) == 1:
            return []
        rest = " ".join(t[2] for t in part[1:])
        if self._places.resolve(rest)[1] is not None or self._places.demonym(rest):
            return part[1:]
        return part

    def _classify(self, text: str, part: list[tuple[int, int, str]]) -> list[Mention]:
        words = [t[2] for t in part]
        lows = [w.casefold() for w in words]
        etype: EntityType | None = None
        before: list[Mention] = []
        if lows[-1].rstrip(".") in _ORG_CUES and len(words) > 1:
            etype = "organization"
        else:
            # a title word after a first name is a surname ("Billy King", "Tom General")
            titled = (
                []
                if lows[0] in _FIRST_NAMES
                else [k for k, w in enumerate(lows) if w in TITLES or w.rstrip(".") in TITLES]
            )
            if titled:
                k = titled[-1]
                # "Kazakh President ...", "South Korean Prime Minister ...": the nationality or
                # place before the title is a mention of its own
                for n in range(min(k, 3), 0, -1):
                    lead = text[part[0][0] : part[n - 1][1]]
                    if self._places.demonym(lead):
                        before.append(Mention(part[0][0], part[n - 1][1], lead, "other"))
                        break
                    if self._places.resolve(lead)[1] is not None:
                        before.append(Mention(part[0][0], part[n - 1][1], lead, "place"))
                        break
                if k < len(part) - 1:
                    part = part[k + 1 :]
                elif k == 0 or before or lows[k - 1] in _TITLE_MODIFIERS or lows[k - 1] in TITLES:
                    return before  # only a title ("Foreign Minister", "Kazakh President")
                # else a surname that is also a title word ("Billy King"): the whole run is a name
                etype = "person"
            else:
                prev = _prev_word(text, max(0, part[0][0] - 24), part[0][0])
                if prev is not None and prev.casefold().strip(",") in TITLES:
                    etype = "person"
        if len(part) > 1 and all(t[2].isupper() for t in part) and part[-1][1] - part[0][0] > 8:
            return before  # an upper-case heading ("PRECARIOUS RELATIONS")
        start, end = part[0][0], part[-1][1]
        surface = _strip_possessive(text[start:end])
        end = start + len(surface)
        if len(surface) < 2 or not any(ch.isupper() for ch in surface):
            return before
        _code, kind = self._places.resolve(surface)
        if kind == "country" or (kind is not None and etype != "person"):
            etype = "place"
        elif etype is None:
            etype = self._type_of(text, part, surface, end)
        return [*before, Mention(start, end, surface, etype)]

    def _type_of(self, text: str, part: list[tuple[int, int, str]], surface: str, end: int) -> EntityType:
        words = [t[2] for t in part]
        lows = [w.casefold().rstrip(".") for w in words]
        if self._places.demonym(surface) or surface.casefold() in _GROUPS:
            return "other"
        if any(w in _ORG_CUES for w in lows):
            return "organization"
        if _ACRONYM.fullmatch(surface):
            return "organization"
        if len(words) == 1:
            # "the Kremlin", "the Sixers": an institution or team; otherwise most often a surname
            nxt = _NEXT_WORD.match(text, end)
            if nxt is not None and (nxt.group(1) or "").casefold() in _SPEECH:
                return "person"
            # after "the"/"from"/"at"... a single name is most often an institution or company
            prev = _prev_word(text, max(0, part[0][0] - 10), part[0][0])
            return "organization" if prev in _ORG_CONTEXT else "person"
        if lows[0] in _FIRST_NAMES or any(len(w) == 2 and w.endswith(".") for w in words[1:-1]):
            return "person"
        if lows[-1] in _PLACE_CUES or lows[0] in _PLACE_PREFIXES:
            return "place"
        if len(words) <= 3 and all(w[:1].isupper() or "-" in w for w in words):
            return "person"
        return "other"
