"""What reading Chinese text needs in several places: numerals and the CJK character classes."""

from __future__ import annotations

import re

DIGITS = "〇一二三四五六七八九"  # a digit's value is its index
_VALUE = {**{c: i for i, c in enumerate(DIGITS)}, "○": 0, "零": 0}  # 〇 as printed: ○ (a circle), 零
# What years are printed in: 二〇二三, 二○二三, 二零二三 (YEAR_DIGITS: str.translate to 2023).
YEAR_NUMERALS = "".join(_VALUE)
COUNTING = DIGITS[1:] + "十"  # what a heading is numbered with: 一 to 十 and on (十二, 二十)
# what a figure stated in words is written with (五百六十, 一万二千)
FIGURE_NUMERALS = DIGITS + "零十百千万亿"
YEAR_DIGITS = str.maketrans({c: str(v) for c, v in _VALUE.items()})
HAN = re.compile(r"[\u4e00-\u9fff]")  # a Han character (CJK Unified Ideographs)
# CJK radicals to Han, compatibility ideographs, full-width forms: the body of a character class
CJK = "\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef"


def numeral_value(token: str) -> int:
    """'3' and '三' -> 3, '十' -> 10, '十二' -> 12, '二十' -> 20, '二十一' -> 21."""
    if token.isdigit():
        return int(token)
    if "十" not in token:
        return _VALUE[token]
    tens, _, ones = token.partition("十")
    return 10 * (_VALUE[tens] if tens else 1) + (_VALUE[ones] if ones else 0)


def numeral(n: int) -> str:
    """1 -> '一', 10 -> '十', 12 -> '十二', 21 -> '二十一' (1 to 99)."""
    tens, ones = divmod(n, 10)
    return ((DIGITS[tens] if tens > 1 else "") + "十" if tens else "") + (DIGITS[ones] if ones else "")


UNITS = "万元|元|件|个|项|次|条"  # what cells print after a count or an amount: 13件, 1.5万元
DASHES = "-—－一_~―‐–"  # a dash as a scan reads it (一 too: in a cell of numbers it is a dash)
