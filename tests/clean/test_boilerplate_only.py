# ruff: noqa: E501
"""Pages that are only boilerplate end as ``empty_after_cleaning``; short real articles do not.

The pages are written for these tests: a site's menu and footer, the same with a cookie banner and
a newsletter box, an error page, a paywall. Near misses: a two-sentence brief, a one-sentence feed
summary, a short article in Japanese and in Chinese, a single long paragraph, a paywalled article
whose lead is visible.
"""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from pipeline.clean import CleanConfig, clean_article
from pipeline.clean._substance import has_article_text, word_count
from pipeline.cli import main
from pipeline.errors import EMPTY_AFTER_CLEANING, StageError
from pipeline.records import RawArticle

_NAV = (
    '<header><a class="logo" href="/">Harbour Herald</a><nav><ul class="menu">'
    '<li><a href="/">Home</a></li><li><a href="/local">Local</a></li><li><a href="/business">Business</a></li>'
    '<li><a href="/culture">Culture</a></li><li><a href="/weather">Weather</a></li><li><a href="/opinion">Opinion</a></li>'
    "</ul></nav></header>"
)
_FOOTER = (
    '<footer><p><a href="/about">About us</a> | <a href="/jobs">Jobs</a> | <a href="/ads">Advertise</a> | '
    '<a href="/contact">Contact the newsroom</a></p><p>&copy; 2026 Harbour Herald Media. All rights reserved.</p></footer>'
)


def _page(title: str, body: str, lang: str = "en") -> str:
    return f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8"><title>{title}</title></head><body>{body}</body></html>'


BOILERPLATE_PAGES = {
    "nav_and_footer": _page("Harbour Herald", _NAV + _FOOTER),
    "nav_cookie_newsletter_footer": _page(
        "Harbour Herald",
        '<nav><a href="/">Home</a> | <a href="/local">Local</a> | <a href="/business">Business</a> | '
        '<a href="/weather">Weather</a></nav>\n'
        '<div class="consent">This site uses cookies to analyse traffic and remember your preferences. '
        "Manage cookie settings</div>\n"
        "<div>Sign up for our newsletter and get the morning briefing in your inbox.</div><div>Advertisement</div>\n"
        "<footer>Follow us on Facebook. &copy; 2026 Harbour Herald Media. All rights reserved. "
        "Privacy policy | Terms of use</footer>",
    ),
    "error_page": _page(
        "Error 404 | Harbour Herald",
        _NAV + "<main><h1>Error 404</h1><p>We are sorry, but the page you requested could not be found.</p>"
        "<p>It may have been moved or deleted.</p>"
        '<p><a href="/">Return to the homepage</a></p></main>' + _FOOTER,
    ),
    "paywall": _page(
        "Subscriber exclusive | Harbour Herald",
        _NAV + "<main><h1>This story is for subscribers</h1>"
        "<p>Subscribe today to read this story and get unlimited access to the Herald.</p>"
        "<p>Only 1 euro for the first month.</p><p>Cancel at any time.</p>"
        '<a class="btn" href="/subscribe">Subscribe now</a><p>Already a subscriber? <a href="/login">Log in</a></p></main>'
        + _FOOTER,
    ),
}


def _raw(
    content: str, content_type: str = "text/html", title: str | None = None, aid: str = "t1"
) -> RawArticle:
    return RawArticle(
        id=aid, url=f"https://herald.example/{aid}", source="herald.example", content=content,
        content_type=content_type, title=title,
    )  # fmt: skip


@pytest.mark.parametrize("kind", sorted(BOILERPLATE_PAGES))
def test_boilerplate_only_page_is_empty_after_cleaning(config: CleanConfig, kind: str) -> None:
    with pytest.raises(StageError) as info:
        clean_article(_raw(BOILERPLATE_PAGES[kind]), config)
    assert info.value.reason == EMPTY_AFTER_CLEANING and info.value.stage == "clean"


@pytest.mark.parametrize(
    "text",
    [
        "Home\n\nLocal\n\nBusiness\n\nCulture\n\nWeather\n\nOpinion\n\nTravel\n\nSport",
        "About us | Jobs | Advertise | Contact the newsroom",
        "Home · Local · Business\n\nHome > Local > Harbour",
        "Page not found\n\nThe article you were looking for does not exist.\n\nBack to the homepage",
        "Continue reading this article\n\nUnlimited access for 2 euros a week.\n\nThe best local journalism.",
        "ホーム\n\nニュース\n\nスポーツ\n\n天気",
    ],
)
def test_plain_text_of_menus_and_notices_is_empty_after_cleaning(config: CleanConfig, text: str) -> None:
    with pytest.raises(StageError) as info:
        clean_article(_raw(text, "text/plain", title="Harbour Herald"), config)
    assert info.value.reason == EMPTY_AFTER_CLEANING


BRIEF = (
    "The harbour ferry between Northbridge and Southport will stop running on Sunday while divers "
    "inspect the new piers, the transit authority said. Services resume on Monday at 6 a.m."
)
SUMMARY = (
    "Northbridge council voted on Tuesday to extend the harbour ferry to three new stops, cutting "
    "commutes for thousands of residents."
)
JAPANESE = (
    "北橋市議会は火曜日、港のフェリー航路を三つの新しい停留所まで延長することを決めた。工事は来年春に始まる。"
)
CHINESE = "北桥市议会周二投票决定，将港口渡轮航线延长至三个新站点。"
LONG_PARAGRAPH = (
    "Northbridge council voted on Tuesday to extend the harbour ferry to three new stops, a plan that "
    "council member Dana Ortiz said would cut commuting times for many residents on the south shore "
    "and that the transit authority expects to cost about 14 million euros over two years"
)


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        (BRIEF, "text/plain"),
        (SUMMARY, "text/plain"),
        (JAPANESE, "text/plain"),
        (CHINESE, "text/plain"),
        (LONG_PARAGRAPH, "text/plain"),
        (
            _page(
                "Ferry to stop on Sunday",
                _NAV + f"<article><h1>Ferry to stop on Sunday</h1><p>{BRIEF}</p></article>" + _FOOTER,
            ),
            "text/html",
        ),
        (_page("Ferry to reach three new stops", f"<article><p>{SUMMARY}</p></article>"), "text/html"),
        (
            _page(
                "北橋のフェリー航路延長",
                f"<article><h1>北橋のフェリー航路延長</h1><p>{JAPANESE}</p></article>",
                "ja",
            ),
            "text/html",
        ),
    ],
    ids=[
        "brief",
        "summary",
        "japanese",
        "chinese",
        "long_paragraph",
        "brief_page",
        "summary_page",
        "japanese_page",
    ],
)
def test_short_real_articles_are_kept(config: CleanConfig, content: str, content_type: str) -> None:
    article = clean_article(_raw(content, content_type, title="Harbour ferry"), config)
    assert article.text


def test_paywalled_article_with_a_visible_lead_is_kept(config: CleanConfig) -> None:
    lead = (
        "Northbridge council voted on Tuesday to extend the harbour ferry to three new stops, a decision "
        "that divided residents of the south shore for most of the year."
    )
    page = _page(
        "Ferry to reach three new stops",
        f"<article><h1>Ferry to reach three new stops</h1><p>{lead}</p>"
        "<p>Subscribe today to read this story and get unlimited access to the Herald.</p></article>",
    )
    assert lead in clean_article(_raw(page), config).text


def test_word_count_counts_characters_of_unspaced_scripts() -> None:
    assert word_count("The ferry left, at 6 a.m.") == 6
    assert word_count("港のフェリー") == 3
    assert word_count("Ferry 航路") == 2


def test_notice_wording_inside_reporting_is_prose(config: CleanConfig) -> None:
    body = (
        "The ferry operator said the page you were looking for does not exist on its old website.\n\n"
        + SUMMARY
        + " The new timetable will be published next week, the council added."
    )
    assert has_article_text(body, config)
    assert not has_article_text("The page you were looking for does not exist.", config)
    assert not has_article_text("Some text.", config)


def test_process_dead_letters_boilerplate_pages(tmp_path: Path) -> None:
    docs = [
        {"id": kind, "url": f"https://herald.example/{kind}", "source": "herald.example",
         "content": page, "content_type": "text/html"}
        for kind, page in sorted(BOILERPLATE_PAGES.items())
    ]  # fmt: skip
    docs.append(
        {"id": "brief", "url": "https://herald.example/brief", "source": "herald.example",
         "content": BRIEF, "content_type": "text/plain", "title": "Ferry to stop on Sunday"}
    )  # fmt: skip
    src, out, dead = tmp_path / "in.jsonl", tmp_path / "out.jsonl", tmp_path / "dead.jsonl"
    src.write_bytes(b"\n".join(orjson.dumps(d) for d in docs) + b"\n")
    assert main(["process", str(src), "-o", str(out), "--dead-letters", str(dead)]) == 0
    stories = [orjson.loads(line) for line in out.read_bytes().splitlines()]
    dead_letters = [orjson.loads(line) for line in dead.read_bytes().splitlines()]
    assert [s["canonical"]["article_id"] for s in stories] == ["brief"]
    assert sorted((d["article_id"], d["reason"]) for d in dead_letters) == [
        (kind, EMPTY_AFTER_CLEANING) for kind in sorted(BOILERPLATE_PAGES)
    ]


def test_one_sentence_item_that_repeats_its_title_is_kept() -> None:
    sentence = (
        "A 58-year-old man charged over a warehouse fire in Dunmore twelve years ago was released "
        "on bail on Friday because he is gravely ill, prosecutors said."
    )
    raw = RawArticle(id="brief-1", url="https://brief.example/1", source="brief.example", title=sentence,
                     content=sentence, content_type="text/plain")  # fmt: skip
    art = clean_article(raw, CleanConfig())
    assert art.text == sentence
    # a longer text still loses its first line when it repeats the title
    raw2 = RawArticle(id="brief-2", url="https://brief.example/2", source="brief.example",
                      title="Warehouse fire suspect freed on bail",
                      content="Warehouse fire suspect freed on bail\n\n" + sentence,
                      content_type="text/plain")  # fmt: skip
    assert clean_article(raw2, CleanConfig()).text == sentence
