"""Find the reports listed in a site's 年度报告 column and write them as a manifest (uri,title,year).

`nianbao discover LISTING_URL... --out manifest.csv [--region-code CODE] [--max-pages N] [--delay S]
[--allow-private]`

- The region code (6-digit 行政区划代码 of the portal the listings belong to) is what the operator
  knows about every report listed there: it goes into the manifest's `region_code` column, and
  links a body's reports across years (nianbao/interpret/agencies.py).

- A report link: its text or title attribute names a 年度报告, or its URL holds `zfxxgkndbg` and its
  text a year; never a notice or plan about reports (通知, 工作要点, 解读, ...), never a column's own
  index page, never a link to another host (sidebars link to other bodies' reports).
- A link to a .pdf/.doc/.docx/.wps is the report itself. Any other report link is a report page:
  its attachments are the report, and so is the page when it has tables or no attachment (a page
  that only says 详见附件 would be an unreadable report).
- Pagination: links reading 下一页 or a page number, and the TRS CMS script createPageHTML(n, i,
  "index", "html") that writes index_1.html ... in the browser; same host only, at most max_pages
  listing pages for each listing URL.
- The year is read from the title (2023年, 2023年度, 二〇二三年).
"""

from __future__ import annotations

import argparse
import csv
import logging
import re
import sys
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from urllib.parse import urljoin, urlsplit, urlunsplit

import lxml.html

from nianbao.acquire import fetch
from nianbao.acquire.fetch import Fetcher, redact
from nianbao.extract import ATTACHMENTS
from nianbao.model.chinese import YEAR_DIGITS, YEAR_NUMERALS
from nianbao.warehouse import storage

COLUMNS = ("uri", "title", "year")  # and region_code, where one was given
LISTINGS = ("listing_url", "region_code")  # the columns of a file of listings (data/listings.csv)


@dataclass(frozen=True)
class Limits:
    max_pages: int = 50  # listing pages read per listing URL (the command's --max-pages)


LIMITS = Limits()
_REPORT = "年度报告"
_NOT_REPORT = ("通知", "要点", "解读", "图解", "方案", "报送", "法治政府", "征集", "目录")
_NEXT = {"下一页", "下页", "后一页", "next", ">", "›", "»"}
_YEAR = re.compile(r"((?:19|20)\d{2})\s*年")
_CN_YEAR = re.compile(rf"([{YEAR_NUMERALS}]{{4}})\s*年")
_REGION = re.compile(r"\d{6}")
_TRS = re.compile(r"createPageHTML\(\s*(\d+)\s*,\s*\d+\s*,\s*[\"'](\w+)[\"']\s*,\s*[\"'](\w+)[\"']")


def year_of(title: str | None) -> int | None:
    """The year a title reports on: the first 4-digit (or Chinese-numeral) year before 年."""
    if not title:
        return None
    if m := _YEAR.search(title):
        return int(m.group(1))
    if m := _CN_YEAR.search(title):
        return int(m.group(1).translate(YEAR_DIGITS))
    return None


def _host(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()


def _clean(url: str) -> str:
    return urlunsplit(urlsplit(url)._replace(fragment=""))


def _suffix(url: str) -> str:
    return PurePosixPath(urlsplit(url).path).suffix.lower()


def _label(a) -> str:
    """The link's words: the longer of its text and title (lists truncate titles with …)."""
    text = re.sub(r"\s+", "", a.text_content() or "")
    title = re.sub(r"\s+", "", a.get("title") or "")
    return max((text, title), key=lambda s: (_REPORT in s, len(s)))


def _is_index(url: str) -> bool:
    name = PurePosixPath(urlsplit(url).path).name
    return name == "" or re.fullmatch(r"(index|default|list)(_\d+)?\.\w+", name) is not None


def _is_report(label: str, url: str) -> bool:
    if any(w in label for w in _NOT_REPORT) or _is_index(url):
        return False
    if _REPORT in label:
        return len(label) > len(_REPORT) + 2  # a bare "年度报告" is a column's nav link
    return "zfxxgkndbg" in url.lower() and year_of(label) is not None


def _links(html: str, base: str) -> list[tuple[str, str]]:
    try:
        root = lxml.html.document_fromstring(html or "<html></html>")
    except Exception:  # a page lxml cannot read lists nothing
        return []
    out = []
    for a in root.iter("a"):
        href = (a.get("href") or "").strip()
        if not href or href.startswith(("#", "javascript:", "mailto:")):
            continue
        out.append((_clean(urljoin(base, href)), _label(a)))
    return out


def _pages(html: str, links: list[tuple[str, str]], base: str) -> list[str]:
    out = [url for url, label in links if label.lower() in _NEXT or (label.isdigit() and len(label) <= 4)]
    if m := _TRS.search(html):  # createPageHTML(count, current, "index", "html")
        count, stem, ext = int(m.group(1)), m.group(2), m.group(3)
        out += [urljoin(base, f"{stem}.{ext}" if n == 0 else f"{stem}_{n}.{ext}") for n in range(count)]
    return out


def discover(
    listing_urls: list[str],
    max_pages: int = LIMITS.max_pages,
    fetcher: Fetcher | None = None,
    errors: list[str] | None = None,
    region_code: str | None = None,
) -> list[dict]:
    """Rows (uri, title, year, and region_code when given) of every report found from the
    listings, first found first.

    Pages that cannot be fetched are skipped; their URL and error go to `errors` when given.
    """
    own = fetcher is None
    fetcher = fetcher or Fetcher()
    errors = [] if errors is None else errors
    rows: dict[str, dict] = {}
    done: set[str] = set()

    def get(url: str) -> tuple[str, str] | None:
        r = fetcher.fetch(url)
        if not r.ok:
            errors.append(f"{redact(url)}: {r.error}")
            return None
        return r.text(), r.final_url or url

    try:
        for listing in listing_urls:
            host, queue, seen, fetched = _host(listing), [_clean(listing)], {_clean(listing)}, 0
            while queue and fetched < max_pages:
                page = get(queue.pop(0))
                fetched += 1
                if page is None:
                    continue
                html, base = page
                links = _links(html, base)
                for url in _pages(html, links, base):
                    if _host(url) == host and url not in seen:
                        seen.add(url)
                        queue.append(url)
                for url, label in links:
                    if _host(url) != host or url in done or url in seen or not _is_report(label, url):
                        continue
                    done.add(url)  # a report listed on two pages is read once
                    if _suffix(url) in ATTACHMENTS:
                        rows[url] = {"uri": url, "title": label, "year": year_of(label)}
                    else:
                        for row in _report_page(get, url, label, host):
                            rows.setdefault(row["uri"], row)
    finally:
        if own:
            fetcher.close()
    return [r | {"region_code": region_code} for r in rows.values()] if region_code else list(rows.values())


def read_listings(path: str | Path) -> list[tuple[str, str | None]]:
    """(listing_url, region_code) of each row of a CSV of listings (header listing_url,region_code)."""
    with open(path, encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    out = []
    for row in rows:
        url, code = (row.get("listing_url") or "").strip(), (row.get("region_code") or "").strip() or None
        if url:
            if code is not None and not _REGION.fullmatch(code):
                raise ValueError(f"{path}: {code!r} is not a 6-digit region code")
            out.append((url, code))
    return out


def _report_page(get, url: str, title: str, host: str) -> list[dict]:
    page = get(url)
    if page is None:
        return []
    html, base = page
    files = []
    for link, _ in _links(html, base):
        if _suffix(link) in ATTACHMENTS and _host(link) == host and link not in files:
            files.append(link)
    year = year_of(title)
    rows = [{"uri": f, "title": title, "year": year} for f in files]
    if not files or re.search(r"<table\b", html, re.IGNORECASE):
        rows.insert(0, {"uri": url, "title": title, "year": year})
    return rows


@dataclass(frozen=True)
class Discovered:
    """What discovering a run's listings came to: the manifest written, and what could not be read."""

    manifest: Path
    reports: int
    listings: int
    errors: list[str]


def to_manifest(listings: list[str], path: Path) -> Discovered:
    """Report links found on 年度报告 listing pages, written as the manifest `path`. A listing is a
    URL, or a CSV file of `listing_url,region_code` rows (data/listings.csv): the reports found
    there get the region code of their listing."""
    errors: list[str] = []
    pairs = [
        p
        for item in listings
        for p in ([(item, None)] if item.startswith(("http://", "https://")) else read_listings(item))
    ]
    rows: dict[str, dict] = {}
    for code in dict.fromkeys(code for _, code in pairs):
        urls = [url for url, c in pairs if c == code]
        for row in discover(urls, errors=errors, region_code=code):
            rows.setdefault(row["uri"], row)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_manifest(list(rows.values()), path)
    return Discovered(path, len(rows), len(pairs), errors)


def write_manifest(rows: list[dict], path: str | Path) -> None:
    """The contract's manifest (UTF-8 CSV, header uri,title,year), written whole or not at all."""
    columns = COLUMNS + (("region_code",) if any(r.get("region_code") for r in rows) else ())

    def write(tmp: Path) -> None:
        with open(tmp, "w", encoding="utf-8", newline="") as f:
            w = csv.DictWriter(f, fieldnames=columns)
            w.writeheader()
            for row in rows:
                w.writerow(
                    {
                        "uri": row["uri"],
                        "title": row.get("title") or "",
                        "year": "" if row.get("year") is None else row["year"],
                    }
                    | ({"region_code": row.get("region_code") or ""} if len(columns) > 3 else {})
                )

    storage.write_atomic(Path(path), write)


def parser(p: argparse.ArgumentParser | None = None) -> argparse.ArgumentParser:
    """The `discover` arguments (on `p`, e.g. a subparser of the nianbao command, or a new parser)."""
    p = p or argparse.ArgumentParser(prog="nianbao discover", description=__doc__.split("\n")[0])
    p.add_argument("listings", nargs="+", metavar="LISTING_URL", help="a 年度报告 column's listing page")
    p.add_argument("--out", required=True, metavar="MANIFEST", help="the manifest CSV to write")
    p.add_argument(
        "--region-code",
        metavar="CODE",
        help="the 6-digit 行政区划代码 of the listings' portal, written into the manifest for every report found",
    )
    p.add_argument(
        "--max-pages",
        type=int,
        default=LIMITS.max_pages,
        help="listing pages read per listing URL (default: %(default)s)",
    )
    p.add_argument(
        "--delay",
        type=float,
        help=f"seconds between requests to one host (default: NIANBAO_FETCH_DELAY, else {fetch.Limits.delay:g})",
    )
    p.add_argument("--allow-private", action="store_true", help="allow private, loopback and link-local addresses")
    return p


def run(args: argparse.Namespace) -> int:
    """0 when every listing page was read, 1 when some could not be (what was found is written), 2 usage."""
    if args.max_pages < 1 or (args.delay is not None and not 0 <= args.delay <= 3600):  # nan and inf are not delays
        print("nianbao: --max-pages must be at least 1 and --delay between 0 and 3600 seconds", file=sys.stderr)
        return 2
    if args.region_code is not None and not _REGION.fullmatch(args.region_code):
        print(f"nianbao: --region-code must be a 6-digit 行政区划代码, not {args.region_code!r}", file=sys.stderr)
        return 2
    bad = [u for u in args.listings if urlsplit(u).scheme not in ("http", "https")]
    if bad:
        print(f"nianbao: not an http(s) URL: {bad[0]}", file=sys.stderr)
        return 2
    errors: list[str] = []
    # each failure is told once, below: not also by the fetcher's warning (Python's last-resort handler)
    logging.getLogger("nianbao.acquire.fetch").addHandler(logging.NullHandler())
    with Fetcher(allow_private=True if args.allow_private else None, delay=args.delay) as fetcher:
        rows = discover(
            args.listings, max_pages=args.max_pages, fetcher=fetcher, errors=errors, region_code=args.region_code
        )
    write_manifest(rows, args.out)
    for e in errors:
        print(f"nianbao: {e}", file=sys.stderr)
    print(f"nianbao: {len(rows)} report{'' if len(rows) == 1 else 's'} written to {args.out}", file=sys.stderr)
    return 1 if errors else 0


def main(argv: list[str] | None = None) -> int:
    try:
        args = parser().parse_args(argv)
    except SystemExit as e:
        return 2 if e.code not in (0, None) else 0
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
