"""Decoding of HTML bytes: BOM, then the HTTP charset, then <meta charset>, then detection.

A declared charset is used only if the bytes decode with it cleanly (servers often declare
one charset in the header and another in the page). Any declared GB2312/GBK is decoded as
GB18030, its superset: real pages contain characters outside GB2312 such as 镕 and 珺.
"""

from __future__ import annotations

import codecs
import re

from charset_normalizer import from_bytes

_HEADER_CHARSET = re.compile(r"charset\s*=\s*[\"']?([\w.:-]+)", re.I)
_META_CHARSET = re.compile(rb"<meta[^>]+charset\s*=\s*[\"']?\s*([\w.:-]+)", re.I)
_GB_FAMILY = {"gb2312", "gbk", "gb18030", "cp936", "x-gbk", "gb_2312-80", "euc-cn", "x-euc-cn", "hz-gb-2312"}
_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))


def normalize_charset(name: str | None) -> str | None:
    """Python codec name for a declared charset (GB family → gb18030); None if unknown."""
    if not name:
        return None
    name = name.strip().lower()
    if name in _GB_FAMILY:
        return "gb18030"
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def charset_from_content_type(content_type: str | None) -> str | None:
    match = _HEADER_CHARSET.search(content_type or "")
    return match.group(1) if match else None


def decode_html(content: bytes, content_type: str | None = None) -> str:
    """Text of an HTML document, given its bytes and HTTP Content-Type header."""
    for bom, codec in _BOMS:
        if content.startswith(bom):
            return content.decode(codec, errors="replace")
    meta = _META_CHARSET.search(content[:4096])
    declared = [normalize_charset(charset_from_content_type(content_type)),
                normalize_charset(meta.group(1).decode("ascii", "ignore") if meta else None)]
    for codec in filter(None, declared):
        try:
            return content.decode(codec)
        except UnicodeDecodeError:
            continue
    best = from_bytes(content).best()
    if best is not None:
        detected = normalize_charset(best.encoding) or "utf-8"
        return content.decode(detected, errors="replace")
    return content.decode(next(filter(None, declared), "utf-8"), errors="replace")
