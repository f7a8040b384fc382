"""Hypothesis strategies for hostile raw messages (bytes as they would sit on the raw topic).

Every family the issue names: random bytes, truncated and deeply nested JSON, wrong types, missing
fields, fields beyond the size limit, invalid UTF-8 and mixed encodings, HTML with 10,000 nested
elements, bodies of only boilerplate or only whitespace, control characters, very long single
lines, and markup/script. Some payloads are valid articles with odd but legal content, so the run
also produces stories. Article ids come from ``st.uuids`` so two payloads rarely share one.
"""

from __future__ import annotations

import json
from typing import Any

import orjson
from hypothesis import strategies as st

REQUIRED = ("id", "url", "source", "content", "content_type")

# The size limit the tests configure (PIPELINE_MAX_MESSAGE_BYTES); oversize payloads exceed it.
TEST_MAX_BYTES = 32 * 1024

_ids = st.uuids().map(lambda u: f"h-{u.hex[:16]}")
_sentences = st.sampled_from(
    [
        "The harbour authority of Portwell said on Monday the old ferry pier will close for repairs.",
        "Inspectors found cracks in two supports, and work will take six weeks, director Mara Lind said.",
        "Volunteers planted 3,000 oak saplings along the river Tarn on Saturday, the trust said.",
        "The council voted 7 to 2 to fund a new library in Esker Hollow from next spring.",
    ]
)
_BOILERPLATE = [
    "Subscribe to our newsletter",
    "Share on Facebook",
    "Share on Twitter",
    "Read more",
    "All rights reserved.",
    "Cookie policy",
    "Accept all cookies",
    "Sign in",
    "Advertisement",
    "Related articles",
    "Follow us on Instagram",
    "Privacy policy | Terms of use",
    "Skip to content",
    "© 2024 Example Media Ltd.",
    "Click here to subscribe",
    "Most read",
]
_WHITESPACE = " \t\n\r\x0b\x0c\u00a0\u1680\u2000\u2001\u2002\u2003\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
_CONTROL = "".join(chr(c) for c in [*range(0, 32), 127, *range(0x80, 0xA0)]) + "\u200b\u200e\u202e\ufeff"


def _article(
    content: str, content_type: str = "text/plain", **extra: Any
) -> st.SearchStrategy[dict[str, Any]]:
    return _ids.map(
        lambda aid: {
            "id": aid,
            "url": f"https://hostile.example/{aid}",
            "source": "hostile.example",
            "content": content,
            "content_type": content_type,
            **extra,
        }
    )


def _json(doc_strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[bytes]:
    # the standard library writes integers of any size (orjson stops at 64 bits)
    return doc_strategy.map(lambda d: json.dumps(d, ensure_ascii=False).encode("utf-8"))


@st.composite
def _valid_article(draw: st.DrawFn) -> dict[str, Any]:
    body = "\n\n".join(draw(st.lists(_sentences, min_size=1, max_size=4)))
    body += " " + draw(st.text(max_size=200))
    ctype = draw(st.sampled_from(["text/plain", "text/html"]))
    if ctype == "text/html":
        body = f"<html><head><title>T</title></head><body><article><p>{body}</p></article></body></html>"
    return draw(_article(body, ctype, title=draw(st.none() | st.text(max_size=80))))


@st.composite
def _truncated(draw: st.DrawFn) -> bytes:
    data = orjson.dumps(draw(_valid_article()))
    cut = draw(st.integers(0, max(0, len(data) - 1)))
    return data[:cut]


@st.composite
def _nested_json(draw: st.DrawFn) -> bytes:
    depth = draw(st.integers(200, 5000))
    kind = draw(st.sampled_from(["list", "dict", "in_content", "in_extra"]))
    if kind == "list":
        return b"[" * depth + b"]" * depth
    if kind == "dict":
        return b'{"a":' * depth + b"1" + b"}" * depth
    aid = draw(_ids)
    inner = b"[" * depth + b"]" * depth
    field = b'"content"' if kind == "in_content" else b'"extra"'
    head = b'{"id":"%s","url":"https://x.example/%s","source":"x.example","content_type":"text/plain",' % (
        aid.encode(),
        aid.encode(),
    )
    if kind == "in_extra":
        head += b'"content":"A short but real sentence about the harbour in Portwell.",'
    return head + field + b":" + inner + b"}"


@st.composite
def _wrong_types(draw: st.DrawFn) -> bytes:
    doc = draw(_valid_article())
    field = draw(st.sampled_from([*REQUIRED, "title", "published_at", "authors", "language"]))
    doc[field] = draw(
        st.one_of(
            st.integers(),
            st.floats(allow_nan=False),
            st.booleans(),
            st.lists(st.integers(), max_size=3),
            st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
            st.just(""),
            st.just("not-a-date"),
        )
    )
    return json.dumps(doc, ensure_ascii=False).encode("utf-8")


@st.composite
def _missing_fields(draw: st.DrawFn) -> bytes:
    doc = draw(_valid_article())
    for field in draw(st.lists(st.sampled_from(REQUIRED), min_size=1, max_size=5, unique=True)):
        doc.pop(field, None)
    return orjson.dumps(doc)


@st.composite
def _oversize(draw: st.DrawFn) -> bytes:
    size = draw(st.integers(TEST_MAX_BYTES + 1, TEST_MAX_BYTES * 3))
    filler = draw(st.sampled_from(["a", "word ", "<p>x</p>", "é"]))
    return orjson.dumps(draw(_article((filler * size)[:size])))


@st.composite
def _bad_encoding(draw: st.DrawFn) -> bytes:
    doc = draw(_valid_article())
    text = doc["content"] + " café naïve Zürich – “quoted” €"
    kind = draw(st.sampled_from(["latin1", "cp1252", "utf16", "mixed", "surrogate", "overlong", "bom"]))
    if kind == "latin1":
        return orjson.dumps({**doc, "content": "@@"}).replace(b"@@", text.encode("latin-1", "replace"))
    if kind == "cp1252":
        return orjson.dumps({**doc, "content": "@@"}).replace(b"@@", text.encode("cp1252", "replace"))
    if kind == "utf16":
        return orjson.dumps(doc).decode("utf-8").encode("utf-16")
    if kind == "mixed":
        return orjson.dumps({**doc, "content": "@@"}).replace(
            b"@@", text.encode("utf-8") + "größe".encode("latin-1") + text.encode("utf-8")
        )
    if kind == "surrogate":
        return orjson.dumps({**doc, "content": "@@"}).replace(b"@@", b"broken \\ud800 half \\udfff pair")
    if kind == "overlong":
        return orjson.dumps({**doc, "content": "@@"}).replace(b"@@", b"over\xc0\xafslash \xed\xa0\x80")
    return b"\xef\xbb\xbf" + orjson.dumps(doc)


@st.composite
def _deep_html(draw: st.DrawFn) -> bytes:
    n = draw(st.integers(2000, 10_000))
    tag = draw(st.sampled_from(["div", "span", "b", "table", "p", "ul"]))
    closed = draw(st.booleans())
    core = "<p>The council of Portwell voted on Monday to rebuild the harbour wall, the mayor said.</p>"
    html = f"<html><body>{('<' + tag + '>') * n}{core}"
    if closed:
        html += ("</" + tag + ">") * n
    html += "</body></html>"
    return orjson.dumps(draw(_article(html, "text/html")))


@st.composite
def _boilerplate_only(draw: st.DrawFn) -> bytes:
    lines = draw(st.lists(st.sampled_from(_BOILERPLATE), min_size=1, max_size=12))
    ctype = draw(st.sampled_from(["text/plain", "text/html"]))
    body = "\n".join(lines)
    if ctype == "text/html":
        body = "<html><body><nav>" + "".join(f"<a href='/x'>{x}</a>" for x in lines) + "</nav></body></html>"
    return orjson.dumps(draw(_article(body, ctype)))


@st.composite
def _whitespace_only(draw: st.DrawFn) -> bytes:
    body = draw(st.text(alphabet=_WHITESPACE + "\u200b", min_size=1, max_size=300))
    ctype = draw(st.sampled_from(["text/plain", "text/html"]))
    if ctype == "text/html" and draw(st.booleans()):
        body = f"<html><body><p>{body}</p><div>&nbsp;&#8203;</div></body></html>"
    return orjson.dumps(draw(_article(body, ctype)))


@st.composite
def _control_chars(draw: st.DrawFn) -> bytes:
    noise = draw(st.text(alphabet=_CONTROL, min_size=1, max_size=200))
    base = draw(
        st.sampled_from(["", "The council of Portwell voted on Monday to rebuild the harbour wall. "])
    )
    mixed = "".join(a + b for a, b in zip(base * 3, noise * 10, strict=False)) or noise
    return orjson.dumps(
        draw(_article(base + noise + mixed, draw(st.sampled_from(["text/plain", "text/html"]))))
    )


@st.composite
def _long_line(draw: st.DrawFn) -> bytes:
    n = draw(st.integers(5_000, TEST_MAX_BYTES - 1000))
    unit = draw(st.sampled_from(["word ", "a", "A. ", "((", "-=", "<", "&amp;", "x" * 50 + " ", "Aa Bb "]))
    return orjson.dumps(draw(_article((unit * n)[:n], draw(st.sampled_from(["text/plain", "text/html"])))))


MARKUP_BODY = (
    "<html><head><title>Harbour &amp; pier</title><script>alert('head')</script>"
    "<style>p{color:red}</style></head><body>"
    "<article><h1>Pier closes</h1>"
    "<p>The harbour authority of Portwell said on Monday that the old ferry pier will close "
    '<b onmouseover="alert(1)">for repairs</b> after inspectors found cracks '
    "&lt;script&gt; in two supports.</p>"
    "<script>document.write('<img src=x onerror=alert(2)>')</script>"
    '<p>Repairs will take six weeks, said <a href="javascript:alert(3)">director Mara Lind</a>.'
    '<img src=x onerror="alert(4)"><iframe src="javascript:alert(5)"></iframe></p>'
    "<p>The authority &#60;b&#62;promised&#60;/b&#62; a ferry shuttle &amp; free parking "
    "<svg onload=alert(6)></svg><noscript><p>enable js</p></noscript></p>"
    "</article></body></html>"
)


@st.composite
def _markup(draw: st.DrawFn) -> bytes:
    ctype = draw(st.sampled_from(["text/html", "text/plain"]))
    return orjson.dumps(draw(_article(MARKUP_BODY, ctype, title="<script>alert('t')</script>Pier")))


def payloads() -> st.SearchStrategy[bytes | None]:
    """One hostile raw-message value (None = a message without a value)."""
    return st.one_of(
        st.binary(max_size=400),
        st.just(None),
        st.just(b""),
        _truncated(),
        _nested_json(),
        _json(
            st.recursive(
                st.none() | st.booleans() | st.integers() | st.text(max_size=20),
                lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=5), c, max_size=4),
                max_leaves=20,
            )
        ),
        _wrong_types(),
        _missing_fields(),
        _oversize(),
        _bad_encoding(),
        _deep_html(),
        _boilerplate_only(),
        _whitespace_only(),
        _control_chars(),
        _long_line(),
        _markup(),
        _valid_article().map(orjson.dumps),
    )
