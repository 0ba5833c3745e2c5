"""Regenerate ``schemas/data/unit_pinyin.json``: the pinyin name of every unit of the geography.

Run by hand, not at install time (it needs pypinyin, which the project does not depend on at run time)::

    .venv/bin/pip install '.[names]'
    .venv/bin/python scripts/build_unit_pinyin.py

Each name is split into its own part and its unit kind (临河 + 区), written the way place names are
romanised (GB/T 16159): the syllables of a part joined, capitalised, without tones — 临河区 "Linhe Qu",
西小召镇 "Xixiaozhao Zhen"; a grid is its village's name plus "Di N Wangge". pypinyin (MIT licence) reads
each part as a phrase; the few readings it gets wrong in this region's Mongolian place names are fixed in
``READINGS``. Source and licence: ``schemas/data/SOURCES.md``. The output is deterministic.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Final

from pypinyin import lazy_pinyin

from schemas.enums import Level
from schemas.geography import geography

OUT: Final = Path(__file__).resolve().parent.parent / "schemas" / "data" / "unit_pinyin.json"

# Characters whose reading in these transliterated Mongolian names differs from pypinyin's default:
# 巴彦高勒 Bayangaole, 格日勒 Gerile (勒 le, not lei); 呼和温都尔 Huhewenduer (都 du, not dou).
READINGS: Final = {"勒": "le", "都": "du"}
_GRID = re.compile(r"^第(\d+)$")


def romanise(text: str) -> str:
    """One word: syllables joined, first letter capitalised (``临河`` → ``Linhe``)."""
    syllables = [READINGS.get(char, reading) for char, reading in zip(text, lazy_pinyin(text), strict=False)]
    if len(syllables) != len(text):  # pypinyin keeps runs of non-Chinese characters together
        syllables = lazy_pinyin(text)
    return "".join(syllables).capitalize()


def build() -> dict[str, str]:
    geo = geography()
    names: dict[str, str] = {}
    for level in sorted(Level, reverse=True):  # parents before children: a grid uses its village's name
        for unit in geo.at_level(level):
            base = unit.name.removesuffix(unit.kind)
            if level is Level.GRID:
                assert unit.parent is not None
                village = geo.unit(unit.parent).name
                number = _GRID.match(base.removeprefix(village))
                if number is None:
                    raise SystemExit(f"grid {unit.code} {unit.name!r}: expected '<village>第N网格'")
                names[unit.code] = f"{names[unit.parent]} Di {number.group(1)} Wangge"
            else:
                names[unit.code] = f"{romanise(base)} {romanise(unit.kind)}"
    return dict(sorted(names.items()))


def main() -> None:
    names = build()
    OUT.write_text(json.dumps(names, ensure_ascii=False, indent=0) + "\n", encoding="utf-8")
    print(f"wrote {OUT} ({len(names)} units)")


if __name__ == "__main__":
    main()
