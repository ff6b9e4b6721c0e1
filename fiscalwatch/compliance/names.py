"""Entity names as documents print them: normalised text, and the variants one name is written as."""

from __future__ import annotations

import re
import unicodedata

_DROP = re.compile(r"[\s\"'“”‘’《》〈〉「」【】\[\]]+")
# Characters that end a place name: a name preceded by another place is a different entity.
PLACE_ENDINGS = "省市县区州旗盟镇乡"


def normalize(text: str | None) -> str:
    """Full-width to half-width, no spaces or quotes: "濮阳市 教育局（汇总）" → "濮阳市教育局(汇总)"."""
    return _DROP.sub("", unicodedata.normalize("NFKC", text or ""))


def region_parts(region: str | None) -> list[str]:
    """"河南省/濮阳市" → ["河南省", "濮阳市"]."""
    return [normalize(part) for part in (region or "").split("/") if part.strip()]


def variants(name: str, aliases: list[str], region: str | None) -> set[str]:
    """The name, its aliases, and each without its region prefix, bare or keeping the place word:
    濮阳市教育局 (河南省/濮阳市) → 濮阳市教育局, 教育局, 市教育局."""
    found = {normalize(n) for n in [name, *aliases] if normalize(n)}
    for place in region_parts(region):
        for written in list(found):
            rest = written.removeprefix(place)
            if rest != written and len(rest) >= 2:
                found |= {rest, place[-1] + rest}
    return {v for v in found if len(v) >= 3}
