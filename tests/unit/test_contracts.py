"""Decoding and validation at the edges: every bad input gets its own stable reason code."""

from __future__ import annotations

import base64
import hashlib

import orjson
import pytest

from pipeline import errors
from pipeline.contracts import contracts, dead_letter, decode_raw, parse_rfc3339, schema_error
from pipeline.errors import StageError

GOOD = {
    "id": "x1",
    "url": "https://example.org/x1",
    "source": "example.org",
    "content": "Some text.",
    "content_type": "text/plain",
}


def reason_of(value: bytes | None, max_bytes: int = 10_000) -> str:
    with pytest.raises(StageError) as exc:
        decode_raw(value, max_bytes=max_bytes)
    return exc.value.reason


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (None, errors.EMPTY_BODY),
        (b"", errors.EMPTY_BODY),
        (b"\xff\xfe{}", errors.INVALID_ENCODING),
        (b'{"id": "caf\xe9"}', errors.INVALID_ENCODING),
        (b'{"id": "a",', errors.MALFORMED_JSON),
        (b"[" * 5000 + b"]" * 5000, errors.MALFORMED_JSON),
        (b"[1, 2]", errors.SCHEMA_INVALID),
        (b'"just a string"', errors.SCHEMA_INVALID),
        (orjson.dumps({**GOOD, "id": 5}), errors.SCHEMA_INVALID),
        (orjson.dumps({k: v for k, v in GOOD.items() if k != "url"}), errors.SCHEMA_INVALID),
        (orjson.dumps({**GOOD, "content_type": "application/pdf"}), errors.UNSUPPORTED_CONTENT_TYPE),
        (orjson.dumps({**GOOD, "content_type": ""}), errors.SCHEMA_INVALID),
        (orjson.dumps({**GOOD, "content_type": 7}), errors.SCHEMA_INVALID),
        (orjson.dumps({**GOOD, "published_at": "yesterday"}), errors.SCHEMA_INVALID),
        (orjson.dumps({**GOOD, "content": " \n\t "}), errors.EMPTY_BODY),
    ],
)
def test_reason_codes(value: bytes | None, reason: str) -> None:
    assert reason_of(value) == reason


@pytest.mark.parametrize(
    ("given", "read_as"),
    [
        ("text/html; charset=UTF-8", "text/html"),
        ("TEXT/PLAIN", "text/plain"),
        (" text/html ;charset=iso-8859-1", "text/html"),
        ("application/xhtml+xml", "text/html"),
    ],
)
def test_content_type_headers_are_read_as_their_media_type(given: str, read_as: str) -> None:
    assert decode_raw(orjson.dumps({**GOOD, "content_type": given}), max_bytes=10_000).content_type == read_as


def test_dead_letter_keeps_small_originals_whole_and_cuts_large_ones_to_fit() -> None:
    err = StageError(errors.MALFORMED_JSON, "bad", stage="decode")
    small = dead_letter(original=b"x" * 100, key=b"k", topic="t", partition=0, offset=1, error=err,
                        max_record_bytes=10_000)  # fmt: skip
    assert base64.b64decode(small["original"]) == b"x" * 100 and "original_truncated" not in small
    assert small["original_size"] == 100
    value = bytes(range(256)) * 40  # 10,240 bytes: base64 alone is 13,656
    big = dead_letter(original=value, key=b"k", topic="t", partition=0, offset=1, error=err,
                      max_record_bytes=10_000)  # fmt: skip
    assert len(orjson.dumps(big)) <= 10_000
    kept = base64.b64decode(big["original"])
    assert value.startswith(kept) and len(kept) > 6_000
    assert big["original_truncated"] is True and big["original_size"] == len(value)
    assert big["original_sha256"] == hashlib.sha256(value).hexdigest()


def test_oversize_is_checked_before_parsing() -> None:
    assert reason_of(orjson.dumps({**GOOD, "content": "x" * 20_000}), max_bytes=10_000) == errors.OVERSIZE


def test_schema_error_names_the_field() -> None:
    with pytest.raises(StageError) as exc:
        decode_raw(orjson.dumps({**GOOD, "source": 12}), max_bytes=10_000)
    assert "source" in exc.value.detail


def test_valid_article_keeps_unknown_fields() -> None:
    raw = decode_raw(
        orjson.dumps({**GOOD, "section": "world", "published_at": "2026-01-02T03:04:05Z"}), max_bytes=10_000
    )
    assert raw.extra == {"section": "world"}
    assert raw.to_dict()["section"] == "world"
    assert raw.published_at == "2026-01-02T03:04:05Z"


def test_rfc3339() -> None:
    assert parse_rfc3339("2026-01-02T03:04:05+02:00") is not None
    assert parse_rfc3339("2026-01-02T03:04:05.123Z") is not None
    assert parse_rfc3339("2026-01-02") is None
    assert parse_rfc3339("2026-01-02T03:04:05") is None  # no offset


def test_dead_letter_record_is_schema_valid_and_keeps_bytes() -> None:
    import base64

    original = b"\x00\xffnot json"
    record = dead_letter(
        original=original,
        key=b"k",
        topic="news.raw",
        partition=3,
        offset=42,
        error=StageError(errors.MALFORMED_JSON, "bad", stage="decode"),
    )
    assert schema_error(contracts().dead_letter, record) is None
    assert base64.b64decode(record["original"]) == original
    assert (record["partition"], record["offset"], record["reason"]) == (3, 42, "malformed_json")


def test_reason_codes_match_the_schema() -> None:
    import json

    from pipeline.contracts import SCHEMA_DIR

    schema = json.loads((SCHEMA_DIR / "dead_letter.schema.json").read_text())
    assert set(schema["properties"]["reason"]["enum"]) == set(errors.REASON_CODES)


@pytest.mark.parametrize(
    "ns",
    [0, 999_999_999, 1_000_000_000, 1_709_251_199_999_999_999, 1_709_251_200_000_000_000,
     1_772_539_200_123_456_789, 4_102_444_799_999_999_000],
)  # fmt: skip
def test_now_is_the_datetime_isoformat_of_the_same_clock(monkeypatch: pytest.MonkeyPatch, ns: int) -> None:
    from datetime import UTC, datetime, timedelta

    from pipeline import contracts as module

    monkeypatch.setattr(module.time, "time_ns", lambda: ns)
    expected = (datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=ns // 1000)).isoformat(
        timespec="milliseconds"
    )
    assert module.now_rfc3339() == expected.replace("+00:00", "Z")
    monkeypatch.setattr(module.time, "time_ns", lambda: ns + 1_000_000)  # the next millisecond
    later = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=(ns + 1_000_000) // 1000)
    assert module.now_rfc3339() == later.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def test_now_follows_the_clock() -> None:
    from datetime import UTC, datetime

    from pipeline.contracts import now_rfc3339

    for _ in range(200):
        before = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        now = now_rfc3339()
        after = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        assert before <= now <= after and parse_rfc3339(now) is not None
