"""The lines above the headline: chrome goes, and the headline becomes the title.

Articles written for these tests (a fictional storm story); each chrome line is of a kind found
above headlines in text copied from pages: section labels, kickers, links, bylines, agencies,
dates, reading times, breadcrumbs, menu items, share bars. Near misses stay: headlines that start
like a link ("More than ..."), contain a date or an agency name, are labelled "Analysis:", or are
only two words long.
"""

from __future__ import annotations

import pytest

from pipeline.clean import CleanConfig, clean_article
from pipeline.clean._header import weak
from pipeline.records import RawArticle

HEADLINE = "Storm cuts power to 40,000 homes across the Harlow valley"
BODY = (
    "A storm with gusts of up to 110 km/h cut power to about 40,000 homes across the Harlow valley "
    "on Sunday night, the regional grid operator said.\n\n"
    "Crews had restored supply to half of them by Monday morning, and the operator said the rest "
    "should be reconnected by Tuesday evening.\n\n"
    "Two people were taken to hospital after a tree fell on their car near Ostby, police said, "
    "and several schools in the valley stayed closed."
)
CHROME_ABOVE = [
    "MORE FROM THE WIRE",
    "By Lena Marsh, Harlow Courier",
    "Lena Marsh, Staff Writer",
    "Associated Press",
    "Reuters",
    "Updated: Mar. 3, 2025, 7:15 a.m. ET",
    "Published 3 hours ago",
    "Posted by admin on March 3, 2025",
    "3 March 2025",
    "Home > News > Weather",
    "News | Weather",
    "Listen to this article",
    "4 min read",
    "Breaking News",
    "EXCLUSIVE",
    "WORLD NEWS",
    "Opinion",
    "Skip to content",
    "Toggle navigation",
    "Login",
    "Watch: Trees down on the ring road",
    "Share on Facebook Share on Twitter",
]


def _clean(content: str, title: str | None = None) -> tuple[str, str]:
    d = {"id": "h", "url": "https://courier.example/storm", "source": "courier.example",
         "content_type": "text/plain", "content": content}  # fmt: skip
    if title:
        d["title"] = title
    a = clean_article(RawArticle.from_dict(d), CleanConfig())
    return a.title, a.text


@pytest.mark.parametrize("chrome", CHROME_ABOVE)
def test_chrome_above_the_headline_is_not_the_title(chrome: str) -> None:
    title, text = _clean(f"{chrome}\n\n{HEADLINE}\n\n{BODY}")
    assert title == HEADLINE
    assert chrome not in text
    assert text.startswith("A storm with gusts")


@pytest.mark.parametrize("chrome", CHROME_ABOVE)
def test_headline_repeated_under_chrome_leaves_the_body(chrome: str) -> None:
    """With the feed's title given, the page's headline and the chrome above it both go."""
    title, text = _clean(f"{chrome}\n\n{HEADLINE}\n\n{BODY}", title=HEADLINE)
    assert title == HEADLINE
    assert text.startswith("A storm with gusts"), text[:80]


def test_several_chrome_lines_above_the_headline() -> None:
    above = "WORLD\n\nHome > News > Weather\n\nUpdated: Mar. 3, 2025"
    content = f"{above}\n\n{HEADLINE}\n\nBy Lena Marsh\n\n{BODY}"
    title, text = _clean(content)
    assert title == HEADLINE
    assert text.startswith("A storm with gusts")


def test_byline_over_the_body_is_not_a_title() -> None:
    title, text = _clean(f"By Lena Marsh, Harlow Courier\n\n{BODY}")
    assert title == ""
    assert text.startswith("A storm with gusts")


@pytest.mark.parametrize(
    "headline",
    [
        "More than 40,000 homes lose power in Harlow valley storm",
        "Mar. 3 storm cuts power to 40,000 homes",
        "Reuters photographer hurt as storm hits Harlow valley",
        "Analysis: Why the Harlow valley grid keeps failing in storms",
        "Storm hits",
    ],
)
def test_headlines_that_look_like_chrome_stay_titles(headline: str) -> None:
    title, text = _clean(f"{headline}\n\n{BODY}")
    assert title == headline
    assert text.startswith("A storm with gusts")


def test_headline_and_standfirst_keep_the_headline() -> None:
    standfirst = "Grid operator says supply will be back by Tuesday evening"
    for headline in ("More than 40,000 homes lose power", "Storm hits"):
        title, _ = _clean(f"{headline}\n\n{standfirst}\n\n{BODY}")
        assert title == headline


def test_a_lead_in_line_is_not_taken_for_the_headline() -> None:
    lead_in = "HARLOW (Courier) - The latest on the storm in the Harlow valley (all times local):"
    title, text = _clean(f"Login\n\n{lead_in}\n\n{BODY}")
    assert title != lead_in
    assert lead_in in text


@pytest.mark.parametrize("line", [HEADLINE, "Storm hits", "Analysis: Why the grid keeps failing",
                                  "More than 40,000 homes lose power in Harlow valley storm",
                                  "Harlow mayor on Mar. 3", "Stocks rise as storm passes"])  # fmt: skip
def test_headlines_are_not_weak(line: str) -> None:
    assert weak(line) is None


@pytest.mark.parametrize("line", CHROME_ABOVE)
def test_chrome_lines_are_weak(line: str) -> None:
    assert weak(line) is not None
