"""The report's year, reporting body, title and signing date, read from its paragraphs."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from nianbao.model.chinese import COUNTING, YEAR_DIGITS, YEAR_NUMERALS, numeral_value
from nianbao.model.document import BOOKMARK
from nianbao.model.findings import Finding
from nianbao.model.template import squash

_TITLE_WORDS = re.compile(r"(年度报告|年报)$")
_YEAR = re.compile(r"(20\d\d)年")
_PERIOD = re.compile(r"(?:统计|期限|年限|时限|自)\D{0,12}(20\d\d)年1月1日(?:起)?至(?:(20\d\d)年)?12月31日")
_REPORT_WORDS = re.compile(r"报告|年报")  # a page title that names the report (not the site alone)
# a signing date on a line of its own: 2025年2月28日 or 二〇二五年二月二十八日
DATE = re.compile(
    rf"^(20\d\d|[{YEAR_NUMERALS}]{{4}})年(\d{{1,2}}|[{COUNTING}]{{1,3}})月(\d{{1,2}}|[{COUNTING}]{{1,3}})日$"
)
NAME_YEAR = re.compile(rf"(?:20\d\d|[{YEAR_NUMERALS}]{{4}})年度?")  # 2021年, 二〇二一年度
# what is not part of a name at either end: markup (# 标题, **, 【】), a year printed after it
_NAME_EDGES = re.compile(rf"^[^\w(（]+|(?:{NAME_YEAR.pattern})+$|[^\w)）]+$")
_REPORT = re.compile(r"(政府信息公开|信息公开|政务公开|政府信息)(工作)?(年度)?报告$")
_PUBLISHES = re.compile(r"现(?:予)?公布(.{2,40}?)(?:20\d\d年度?)?(?:政府信息公开|政务公开|信息公开)")


@dataclass
class Metadata:
    title: str | None = None
    year: int | None = None
    agency: str | None = None
    published_on: dt.date | None = None
    findings: list[Finding] = field(default_factory=list)


def read(paragraphs: list[str], page_title: str | None = None, source: str | None = None) -> Metadata:
    """`page_title`: the title the document's metadata gives (HTML <title>); `source`: its file
    name or URL. The year comes from, in order: the title, the page title, the reporting period
    sentence, the source's name, the signing date."""
    meta = Metadata()
    paras = [p.strip() for p in (BOOKMARK.sub("", p) for p in paragraphs) if p.strip()]
    meta.title = next(
        (
            p
            for p in paras[:5]
            if len(squash(p)) <= 80 and _TITLE_WORDS.search(squash(p)) and not squash(p).startswith(("根据", "本报告"))
        ),
        None,
    )
    signature, signed = _signature(paras)
    meta.published_on = signed
    if meta.title:
        title = squash(meta.title)
        if m := _YEAR.search(title):
            meta.year = int(m.group(1))
        meta.agency = _agency_from_title(title)
    if meta.year is None and page_title and _REPORT_WORDS.search(squash(page_title)):
        if m := _YEAR.search(squash(page_title)):
            meta.year = int(m.group(1))
    if meta.year is None:
        for p in paras:
            if m := _PERIOD.search(squash(p)):
                meta.year = int(m.group(1))
                break
    if meta.year is None and source:
        if years := _YEAR.findall(squash(_path(source))):
            meta.year = int(years[-1])  # the one nearest the file's own name
    if meta.year is None and signed is not None and signed.month <= 6:
        meta.year = signed.year - 1
        meta.findings.append(
            Finding.of(
                "extraction.year_from_signature",
                f"the year is printed nowhere; signed {signed.isoformat()}, so read as {signed.year - 1}",
                ["reports:year"],
                None,
                str(signed.year - 1),
            )
        )
    if meta.agency is None:
        for p in paras[:5]:
            if m := _PUBLISHES.search(squash(p)):
                meta.agency = m.group(1)
                break
    if meta.agency is None and signature:
        meta.agency = signature
    meta.agency = clean_name(meta.agency)
    return meta


def clean_name(name: str | None) -> str | None:
    """'#沐阳县人民政府' -> '沐阳县人民政府', '白杨镇人民政府二〇二一年' -> '白杨镇人民政府'."""
    if name is None:
        return None
    while (cleaner := _NAME_EDGES.sub("", name)) != name:
        name = cleaner
    return name or None


def date_of(line: str) -> dt.date | None:
    """The date a line of its own prints (Arabic or Chinese numerals), if a valid one."""
    m = DATE.match(squash(line))
    if not m:
        return None
    year, month, day = m.group(1).translate(YEAR_DIGITS), numeral_value(m.group(2)), numeral_value(m.group(3))
    try:
        return dt.date(int(year), month, day)
    except ValueError:
        return None


def _path(source: str) -> str:
    """A path or URL's path, %-escapes decoded: …/沭阳县2025年政府信息公开工作年度报告.pdf (a year
    counts only with its 年: /art/2026/1/15/ is the publishing date)."""
    from urllib.parse import unquote, urlsplit

    return unquote(urlsplit(source).path if "://" in source else source)


def _agency_from_title(title: str) -> str | None:
    body = _REPORT.sub("", title)
    m = NAME_YEAR.search(body)
    if m:
        before, after = body[: m.start()], body[m.end() :]
        body = before or after
    return body or None


def _signature(paras: list[str]) -> tuple[str | None, dt.date | None]:
    """The body and date signed at the end: '彭后街道办事处' / '2025年1月20日'."""
    tail = [p for p in paras[-4:] if not squash(p).isdigit()]
    for i in range(len(tail) - 1, -1, -1):
        if DATE.match(squash(tail[i])):
            date = date_of(tail[i])
            if date is None:
                return None, None
            name = squash(tail[i - 1]) if i > 0 and is_signer(tail[i - 1]) else None
            return name, date
    return None, None


def is_signer(line: str) -> bool:
    """A line that can be the body signing above the date: short, not a sentence."""
    s = squash(line)
    return bool(s) and len(s) <= 30 and not re.search(r"[。，；,;:：]", s)
