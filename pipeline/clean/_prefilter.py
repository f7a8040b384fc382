"""Literal pre-filters for the chrome patterns: skip a regex when its required words are absent.

Python's regex engine tries every alternative of a pattern like ``\\b(?:subscribe|sign up|...)``
at every position of the text; on a short line that cost several microseconds per pattern, most
of the plain-text stage. :func:`required_substrings` reads a compiled pattern's syntax tree
(``re._parser``, the parser ``re.compile`` itself uses) and returns strings of which every match
must contain at least one, e.g. ``("cookie", "assume you")``. ``str.__contains__`` on those is far
cheaper than the search, and a text containing none of them cannot match, so the outcome of
``pattern.search`` is unchanged.

The derivation only ever picks mandatory pieces: a run of literal characters, a group, or an
alternation all of whose branches yield strings; optional and repeated-zero parts, classes,
anchors and lookarounds are passed over. When no mandatory literal exists (or the pattern ignores
case), the answer is ``None`` and the pattern is always searched.
"""

from __future__ import annotations

import re
from re import _constants as sre  # type: ignore[attr-defined]
from re import _parser as sre_parse  # type: ignore[attr-defined]
from typing import Any


def _required(items: Any) -> frozenset[str] | None:
    """Strings one of which every match of the parsed sequence ``items`` contains, or ``None``."""
    best: frozenset[str] | None = None
    run: list[str] = []

    def consider(candidate: frozenset[str] | None) -> None:
        nonlocal best
        if candidate and (best is None or min(map(len, candidate)) > min(map(len, best))):
            best = candidate

    for op, av in [*items, (None, None)]:
        if op is sre.LITERAL:
            run.append(chr(av))
            continue
        if run:
            consider(frozenset(["".join(run)]))
            run = []
        if op is sre.SUBPATTERN:
            if not av[1] & re.IGNORECASE:
                consider(_required(av[3]))
        elif op is sre.BRANCH:
            branches = [_required(branch) for branch in av[1]]
            if all(branches):
                consider(frozenset().union(*branches))  # type: ignore[arg-type]
        elif op in (sre.MAX_REPEAT, sre.MIN_REPEAT) and av[0] >= 1:
            consider(_required(av[2]))
    return best


def required_substrings(pattern: re.Pattern[str]) -> tuple[str, ...] | None:
    """Strings one of which is in every text ``pattern`` matches; ``None`` when none are known.

    Strings containing another one of the set are dropped (``"cookies"`` when ``"cookie"`` is
    there): checking the shorter is enough.
    """
    if pattern.flags & re.IGNORECASE:
        return None
    try:
        found = _required(sre_parse.parse(pattern.pattern, pattern.flags).data)
    except Exception:  # an unknown parser shape: no pre-filter, the pattern is always searched
        return None
    if not found:
        return None
    minimal = [s for s in found if not any(t != s and t in s for t in found)]
    return tuple(sorted(minimal, key=lambda s: (len(s), s)))


def may_match(text: str, required: tuple[str, ...] | None) -> bool:
    """False only when ``text`` contains none of the ``required`` strings."""
    return required is None or any(map(text.__contains__, required))
