"""Bytes to text: honour the declared charset, sniff the page, detect, then repair mojibake.

Order of evidence (first that decodes cleanly wins):

1. a byte-order mark (UTF-8, UTF-16, UTF-32);
2. the charset declared by the transport (HTTP ``Content-Type``);
3. for HTML/XML, ``<meta charset>``, ``<meta http-equiv="Content-Type">`` or the XML declaration in
   the first 4 KiB;
4. strict UTF-8;
5. detection with charset-normalizer;
6. windows-1252 with replacement characters (never fails).

``latin-1``/``iso-8859-1``/``ascii`` labels are read as windows-1252, as browsers do (WHATWG).
The decoded text then goes through ftfy's encoding repair, which undoes UTF-8 read as
windows-1252 and similar mojibake. :func:`decode_bytes` never raises.
"""

from __future__ import annotations

import codecs
import re

import ftfy
from charset_normalizer import from_bytes

_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)

# Bounded patterns over a 4 KiB ASCII prefix: no nested quantifiers, so no backtracking blow-up.
_META_CHARSET = re.compile(rb"""<meta[^>]{0,300}?charset\s*=\s*["']?\s*([A-Za-z0-9_:.\-]{1,40})""", re.I)
_XML_ENCODING = re.compile(rb"""<\?xml[^>]{0,200}?encoding\s*=\s*["']([A-Za-z0-9_:.\-]{1,40})""", re.I)

_WHATWG_ALIASES = {
    "latin1": "cp1252",
    "latin-1": "cp1252",
    "iso-8859-1": "cp1252",
    "iso8859-1": "cp1252",
    "iso_8859-1": "cp1252",
    "l1": "cp1252",
    "us-ascii": "cp1252",
    "ascii": "cp1252",
    "x-sjis": "shift_jis",
    "gb2312": "gb18030",
    "gbk": "gb18030",
}

_FTFY_CONFIG = ftfy.TextFixerConfig(
    unescape_html=False,
    uncurl_quotes=False,
    fix_line_breaks=False,
    fix_latin_ligatures=False,
    fix_character_width=False,
    normalization=None,
    explain=False,
)


def normalize_charset(label: str | None) -> str | None:
    """Return a Python codec name for a charset label, or ``None`` when unknown."""
    if not label:
        return None
    name = label.strip().strip("\"'").lower()
    name = _WHATWG_ALIASES.get(name, name)
    try:
        codec = codecs.lookup(name).name
    except LookupError:
        return None
    # A declared UTF-16/32 without BOM is usually a lie on the web; treat it as UTF-8.
    if codec.startswith(("utf-16", "utf-32")):
        return "utf-8"
    return "cp1252" if codec in ("latin-1", "iso8859-1", "ascii") else codec


def sniff_charset(data: bytes) -> str | None:
    """Charset declared inside an HTML/XML document's first 4 KiB, if any."""
    head = data[:4096]
    match = _META_CHARSET.search(head) or _XML_ENCODING.search(head)
    return match.group(1).decode("ascii", "replace") if match else None


def _try(data: bytes, codec: str | None) -> str | None:
    if codec is None:
        return None
    try:
        return data.decode(codec)
    except (UnicodeDecodeError, LookupError):
        # windows-1252 leaves five bytes undefined; browsers map them as latin-1 does.
        return data.decode("latin-1") if codec == "cp1252" else None


def _detect(data: bytes) -> str | None:
    """charset-normalizer's best guess; windows-1252 wins ties with other single-byte code pages."""
    matches = from_bytes(data)
    best = matches.best()
    if best is None:
        return None
    for match in matches:
        if (
            match.encoding in ("cp1252", "latin_1")
            and match.chaos <= best.chaos
            and match.coherence >= best.coherence - 0.05
        ):
            return "cp1252"
    return normalize_charset(best.encoding)


def repair_text(text: str) -> str:
    """Repair mojibake (e.g. ``CafÃ©`` -> ``Café``) without touching markup, quotes or line breaks."""
    try:
        return ftfy.fix_text(text, _FTFY_CONFIG)
    except Exception:  # ftfy is best-effort; never let a repair attempt lose the text
        return text


def decode_bytes(data: bytes, declared_charset: str | None = None, content_type: str = "text/html") -> str:
    """Decode bytes of an HTML page, feed or text file to ``str``; never raises."""
    if not data:
        return ""
    for bom, codec in _BOMS:
        if data.startswith(bom):
            return repair_text(data[len(bom) :].decode(codec, errors="replace"))
    text = _try(data, normalize_charset(declared_charset))
    if text is None and ("html" in content_type or "xml" in content_type):
        text = _try(data, normalize_charset(sniff_charset(data)))
    if text is None:
        text = _try(data, "utf-8")
    if text is None:
        detected: str | None
        try:
            detected = _detect(data[:200_000])
        except Exception:  # detection is heuristic; fall through to the safe default
            detected = None
        text = _try(data, detected)
    if text is None:
        text = data.decode("cp1252", errors="replace")
    return repair_text(text)
