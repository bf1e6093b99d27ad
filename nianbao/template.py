"""The template definition (template.toml) and the label normalisation every matcher shares."""
from __future__ import annotations

import difflib
import re
import tomllib
import unicodedata
from dataclasses import dataclass
from functools import cache
from importlib import resources

from nianbao.chinese import numeral_value

_QUOTES = str.maketrans({c: '"' for c in "“”„‟＂'‘’「」『』"})
# Leading numbering: (一) （1） 一、 1. 1、 3、 — kept apart from the label it numbers.
_NUMBERING = re.compile(r"^(?:\(([一二三四五六七八九十\d]{1,3})\)|([一二三四五六七八九十]{1,3})[、.]|(\d{1,2})[.、](?!\d))")
_NOTE = re.compile(r"\(.*\)$")


def squash(text: str) -> str:
    """NFKC (full width to half width), no whitespace, one kind of quote."""
    text = unicodedata.normalize("NFKC", text or "").translate(_QUOTES)
    return re.sub(r"\s+", "", text)


def split_numbering(text: str) -> tuple[str | None, str]:
    """'（三）不予公开' -> ('(3)', '不予公开'); '三、x' and '3、x' -> ('3、', 'x'); '3.其他' -> ('3.', '其他').

    Numbering is canonicalised to '(n)', 'n、' or 'n.' with n an int: reports print "3、" for "三、".
    """
    s = squash(text)
    m = _NUMBERING.match(s)
    if not m:
        return None, s
    paren, chinese, arabic = m.groups()
    rest = s[m.end():]
    if paren:
        return f"({numeral_value(paren)})", rest
    if chinese:
        return f"{numeral_value(chinese)}、", rest
    sep = s[m.end() - 1]
    return (f"{int(arabic)}、" if sep == "、" else f"{int(arabic)}."), rest


def canonical_number(number: str | None) -> str | None:
    return split_numbering(number + "x")[0] if number else None


@dataclass(frozen=True)
class Label:
    code: str
    texts: tuple[str, ...]  # squashed variants
    number: str | None = None
    needs_number: bool = False

    def matches(self, number: str | None, text: str) -> bool:
        if self.needs_number and number is None:
            return False
        if number is not None and self.number is not None and number != self.number:
            # "1." and "1、" are the same ordinal written two ways
            if number.rstrip(".、") != self.number.rstrip(".、") or number[0] == "(" or self.number[0] == "(":
                return False
        return any(text == t or (text.startswith(t) and _NOTE.match(text[len(t):])) for t in self.texts)


class Template:
    def __init__(self, data: dict):
        self.data = data
        self.sections = {code: (num, squash(head)) for code, (num, head) in data["sections"].items()}
        self.narrative_sections: list[str] = data["narratives"]["sections"]
        self.table_words = tuple(squash(w) for w in data["pages"]["table_words"])
        ad = data["active_disclosure"]
        self.ad_header = squash(ad["header"])
        self.ad_ignore = {squash(t) for t in ad["ignore"]}
        self.ad_items = [_label(d) for d in ad["items"]]
        self.ad_metrics = [_label(d) for d in ad["metrics"]]
        self.metric_kind = {d["code"]: d["kind"] for d in ad["metrics"]}
        ap = data["applications"]
        self.applicants = [code for code, _ in ap["columns"]]
        self.app_groups = {squash(t) for t in ap["groups"]}
        self.app_rows = [_label(d) for d in ap["rows"]]
        self.result_rows = [d["code"] for d in ap["rows"] if d.get("result")]
        rl = data["reviews_litigation"]
        self.rl_header = squash(rl["header"])
        self.proceedings = [code for code, _ in rl["proceedings"]]
        self.outcomes = [code for code, _ in rl["outcomes"]]
        self.rules: list[dict] = data["rules"]
        self.versions = {
            section: {d["code"]: set(d["versions"]) for d in entries}
            for section, entries in (("items", ad["items"]), ("metrics", ad["metrics"]), ("rows", ap["rows"]))
        }

    def rule(self, rule_id: str) -> dict:
        return next(r for r in self.rules if r["id"] == rule_id)

    def dictionary_rows(self) -> list[dict]:
        """Every code with its Chinese label and the editions that print it."""
        out = []
        ad, ap, rl = self.data["active_disclosure"], self.data["applications"], self.data["reviews_litigation"]
        for column, entries in (("item", ad["items"]), ("metric", ad["metrics"])):
            for d in entries:
                out.append(_dict_row("active_disclosure", column, d["code"], d["labels"], d["versions"]))
        for d in ap["rows"]:
            label = (d["number"] if d.get("number") else "") + d["labels"][0]
            out.append(_dict_row("applications", "row", d["code"], [label, *d["labels"][1:]], d["versions"]))
        for code, label in ap["columns"]:
            out.append(_dict_row("applications", "applicant", code, [label], ["2019", "2021"]))
        for column, entries in (("proceeding", rl["proceedings"]), ("outcome", rl["outcomes"])):
            for code, label in entries:
                out.append(_dict_row("reviews_litigation", column, code, [label], ["2019", "2021"]))
        for code, (num, head) in self.data["sections"].items():
            if code in self.narrative_sections:
                out.append(_dict_row("narratives", "section", code, [f"{num}、{head}"], ["2019", "2021"]))
        for r in [*self.rules, *self.data["findings"]]:
            out.append(_dict_row("findings", "rule_id", r["id"], [r["description"]], ["2019", "2021"], r["severity"]))
        return out


def _dict_row(dataset, column, code, labels, versions, severity=None) -> dict:
    return {
        "dataset": dataset,
        "column": column,
        "code": code,
        "label": labels[0],
        "variants": list(labels[1:]),
        "template_versions": sorted(versions),
        "severity": severity,
    }


def _label(d: dict) -> Label:
    return Label(d["code"], tuple(squash(t) for t in d["labels"]), canonical_number(d.get("number")),
                 d.get("needs_number", False))


def find(labels: list[Label], cell: str) -> Label | None:
    number, text = split_numbering(cell)
    return next((lab for lab in labels if lab.matches(number, text)), None)


def find_approximate(labels: list[Label], cell: str, cutoff: float = 0.86) -> Label | None:
    """A label misprinted by a character or two (其他法律行政止公开); the caller records a finding."""
    number, text = split_numbering(cell)
    if len(text) < 6:
        return None
    best, score = None, cutoff
    for lab in labels:
        for t in lab.texts:
            r = difflib.SequenceMatcher(None, text, t).ratio()
            if r >= score and (number is None or lab.number is None or number.rstrip(".、") == lab.number.rstrip(".、")):
                best, score = lab, r
    return best


@cache
def template() -> Template:
    with resources.files("nianbao").joinpath("template.toml").open("rb") as f:
        return Template(tomllib.load(f))
