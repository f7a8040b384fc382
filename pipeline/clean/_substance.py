"""Whether a cleaned body is article text at all: the last check before ``empty_after_cleaning``.

The line filters drop the chrome they recognise one unit at a time and keep what they cannot tell
from text. On a page that is chrome only, what they keep is still chrome: menu items ("Home",
"World", "Contact us | Careers | Advertise with us"), a "Back to homepage" link, the message of an
error page ("Sorry, the page you were looking for does not exist.") or of a paywall ("Get
unlimited access for $1 a month."). Such a body is not an article.

A body is article text when its *prose* holds at least ``CleanConfig.min_article_words`` words.
A unit (line or paragraph) is not prose when

* it is a menu: two or more items joined by ``|``, ``·``, ``•``, ``»``, ``›`` or a spaced ``/``
  or ``>``, each of at most ``_MENU_ITEM_WORDS`` words;
* it is as short as a menu item and open-ended (no final punctuation, or ends in a colon): a link,
  a menu entry or a label;
* it has at most ``weak_pattern_max_words`` words and reads as the message of an error page or a
  paywall (``PAGE_NOTICE_PATTERNS``).

When such a message is present, the rest of the body must also reach ``_BESIDE_NOTICE_WORDS``
words (about one sentence of news): the short lines around an error or paywall message ("Only
$1 for the first month.") belong to it, while the visible lead of a paywalled article is long
enough to stay.

Only the verdict is taken from here; a body that passes is returned as the line filters left it.
Words are runs of letters; in scripts written without spaces (Chinese, Japanese, Thai, Lao,
Khmer, Myanmar) every ``_CHARS_PER_WORD`` characters of a run count as one word.
"""

from __future__ import annotations

import re

from pipeline.clean import _patterns as P
from pipeline.clean._config import CleanConfig
from pipeline.clean._words import letter_runs

_MENU_SEPARATOR = re.compile(r"\s*[|·•»›]\s*|\s+[/>]\s+")
# The characters a separator needs: a unit without any is one item, not a menu. The split tries
# the pattern at every position of the unit, a search for these characters is a quick scan.
_MENU_CHAR = re.compile(r"[|·•»›/>]")
_MENU_ITEM_WORDS = 4
_BESIDE_NOTICE_WORDS = 20
# Han, kana, Thai, Lao, Myanmar, Khmer: scripts that do not put spaces between words.
_UNSPACED = re.compile(
    r"[\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]"
)
_CHARS_PER_WORD = 2


def word_count(text: str) -> int:
    """Words of ``text``: letter runs, a run in an unspaced script by its length."""
    total = 0
    for run in letter_runs(text):
        unspaced = len(_UNSPACED.findall(run)) if not run.isascii() else 0
        total += -(-unspaced // _CHARS_PER_WORD) if unspaced else 1
    return total


def _is_menu(unit: str) -> bool:
    if not _MENU_CHAR.search(unit):
        return False
    items = [item for item in _MENU_SEPARATOR.split(unit) if item.strip()]
    return len(items) >= 2 and all(word_count(item) <= _MENU_ITEM_WORDS for item in items)


def _is_link_or_label(unit: str, n_words: int) -> bool:
    open_ended = not P.ends_terminal(unit) or unit.endswith((":", "："))
    return open_ended and n_words <= _MENU_ITEM_WORDS


def has_article_text(body: str, config: CleanConfig) -> bool:
    """Whether ``body`` (cleaned text, one unit a line) holds enough prose to be an article."""
    need = max(1, config.min_article_words)
    enough = max(need, _BESIDE_NOTICE_WORDS)  # enough in any case: stop counting
    prose = 0
    notice = False
    for line in body.splitlines():
        unit = line.strip()
        n = word_count(unit)
        if n == 0 or _is_link_or_label(unit, n) or _is_menu(unit):
            continue
        if n <= config.weak_pattern_max_words and P.match_kind(unit, P.PAGE_NOTICE_PATTERNS):
            notice = True
            continue
        prose += n
        if prose >= enough:
            return True
    return prose >= (enough if notice else need)
