"""decode_bytes: declared charsets, meta sniffing, BOMs, detection, mojibake repair."""

from __future__ import annotations

import codecs

import pytest

from pipeline.clean import decode_bytes

FRENCH = "Le café de la gare a rouvert ses portes après les travaux d'été. « Enfin ! » a dit Hélène."
JAPANESE = "東京都は月曜日、新しい公園の建設計画を発表した。公園は来年の春に開園する予定です。" * 3


@pytest.mark.parametrize("charset", ["latin-1", "iso-8859-1", "windows-1252", "cp1252"])
def test_declared_western_charset(charset: str) -> None:
    data = FRENCH.encode("cp1252")
    assert decode_bytes(data, declared_charset=charset, content_type="text/plain") == FRENCH


def test_windows_1252_specials_declared_latin1() -> None:
    text = "He said \u201cyes\u201d \u2013 twice\u2026"
    assert decode_bytes(text.encode("cp1252"), declared_charset="ISO-8859-1") == text


def test_meta_charset_sniffed() -> None:
    page = f'<html><head><meta charset="windows-1252"></head><body><p>{FRENCH}</p></body></html>'
    assert FRENCH in decode_bytes(page.encode("cp1252"))


def test_http_equiv_charset_sniffed() -> None:
    page = (
        '<html><head><meta http-equiv="Content-Type" content="text/html; charset=Shift_JIS"></head>'
        f"<body><p>{JAPANESE}</p></body></html>"
    )
    assert JAPANESE in decode_bytes(page.encode("shift_jis"))


def test_shift_jis_declared() -> None:
    assert decode_bytes(JAPANESE.encode("shift_jis"), "shift_jis", "text/plain") == JAPANESE


def test_shift_jis_undeclared_detected() -> None:
    assert decode_bytes(JAPANESE.encode("shift_jis"), None, "text/plain") == JAPANESE


def test_latin1_undeclared_detected() -> None:
    text = (FRENCH + " ") * 4
    assert decode_bytes(text.encode("cp1252"), None, "text/plain") == text


def test_wrong_declared_charset_falls_back() -> None:
    # Declared UTF-8 but really windows-1252: strict UTF-8 fails, detection takes over.
    assert decode_bytes((FRENCH * 3).encode("cp1252"), "utf-8", "text/plain") == FRENCH * 3


@pytest.mark.parametrize(
    ("bom", "codec"),
    [(codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be")],
)
def test_bom_wins(bom: bytes, codec: str) -> None:
    data = bom + FRENCH.encode(codec)
    assert decode_bytes(data, declared_charset="latin-1") == FRENCH


def test_mojibake_repaired() -> None:
    garbled = FRENCH.encode("utf-8").decode("cp1252")  # UTF-8 read as windows-1252
    assert "Ã" in garbled
    assert decode_bytes(garbled.encode("utf-8"), "utf-8", "text/plain") == FRENCH


def test_unknown_declared_charset_ignored() -> None:
    assert decode_bytes(FRENCH.encode("utf-8"), "x-no-such-charset") == FRENCH


@pytest.mark.parametrize("data", [b"", b"\x00\xff\xfe\x80\x81", bytes(range(256)) * 50, b"\xef\xbb"])
def test_never_raises(data: bytes) -> None:
    assert isinstance(decode_bytes(data), str)
    assert isinstance(decode_bytes(data, "utf-16", "text/plain"), str)
