"""The template definition (template.toml) and the label normalisation every matcher shares."""

from __future__ import annotations

import datetime as dt
import difflib
import re
import tomllib
import unicodedata
from collections.abc import Collection
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, model_validator

from nianbao.model.chinese import COUNTING, numeral_value

_QUOTES = str.maketrans({c: '"' for c in "“”„‟＂'‘’「」『』"})
# Leading numbering: (一) （1） 一、 1. 1、 3、 — kept apart from the label it numbers.
_NUMBERING = re.compile(rf"^(?:\(([{COUNTING}\d]{{1,3}})\)|([{COUNTING}]{{1,3}})[、.]|(\d{{1,2}})[.、](?!\d))")
_NOTE = re.compile(r"\(.*\)$")


_SPACE = re.compile(r"\s+")


@lru_cache(maxsize=2**14)  # the template's labels and small counts, over and over: ~500 calls a report
def squash(text: str) -> str:
    """NFKC (full width to half width), no whitespace, one kind of quote."""
    text = unicodedata.normalize("NFKC", text or "").translate(_QUOTES)
    return _SPACE.sub("", text)


def split_numbering(text: str) -> tuple[str | None, str]:
    """'（三）不予公开' -> ('(3)', '不予公开'); '三、x' and '3、x' -> ('3、', 'x'); '3.其他' -> ('3.', '其他').

    Numbering is canonicalised to '(n)', 'n、' or 'n.' with n an int: reports print "3、" for "三、".
    """
    s = squash(text)
    m = _NUMBERING.match(s)
    if not m:
        return None, s
    paren, chinese, arabic = m.groups()
    rest = s[m.end() :]
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
        return any(text == t or (text.startswith(t) and _NOTE.match(text[len(t) :])) for t in self.texts)


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")  # a key the code does not know is a typo


class Item(_Model):
    """A section 二 row, or (with `kind`) a section 二 column."""

    code: str
    labels: tuple[str, ...]
    versions: tuple[Literal["2019", "2021"], ...]


class Metric(Item):
    kind: Literal["count", "signed_count", "amount"]
    note: str = ""  # printed after its label: （单位：万元）


class Row(Item):
    """A section 三 row."""

    number: str | None = None
    needs_number: bool = False
    result: bool = False  # one of the 办理结果 rows that "@result" stands for
    group: tuple[str, ...] = ()  # the printed labels spanning this row, outer first

    @property
    def printed(self) -> str:
        """Its label as the template prints it, numbered (（一）予以公开)."""
        return (self.number or "") + self.labels[0]


class ActiveDisclosure(_Model):
    header: str
    ignore: tuple[str, ...]
    items: tuple[Item, ...]
    metrics: tuple[Metric, ...]
    printed: dict[Literal["2019", "2021"], dict[str, tuple[str, ...]]]  # edition -> item -> its metrics

    @model_validator(mode="after")
    def _printed_are_codes(self) -> ActiveDisclosure:
        items, metrics = {d.code for d in self.items}, {d.code for d in self.metrics}
        for edition, cells in self.printed.items():
            unknown = (set(cells) - items) | {m for ms in cells.values() for m in ms} - metrics
            if unknown:
                raise ValueError(f"active_disclosure.printed.{edition} names unknown codes {sorted(unknown)}")
        return self


class Applications(_Model):
    columns: tuple[tuple[str, str], ...]  # (code, label)
    groups: tuple[str, ...]
    results_label: str
    rows: tuple[Row, ...]
    notes: tuple[str, ...] = ()  # printed in the table's header, carrying no data


class ReviewsLitigation(_Model):
    header: str
    proceedings: tuple[tuple[str, str], ...]
    outcomes: tuple[tuple[str, str], ...]


class Pages(_Model):
    table_words: tuple[str, ...]


class Narratives(_Model):
    sections: tuple[str, ...]


class Agencies(_Model):
    government: str
    place_suffixes: tuple[str, ...]
    township_words: tuple[str, ...]
    synonyms: tuple[tuple[str, str], ...]  # (long, short)
    place_words: tuple[str, ...]
    zone_words: tuple[str, ...]


class Figure(_Model):
    code: str
    pattern: str
    cells: tuple[str, ...]
    or_cells: tuple[tuple[str, ...], ...] = ()  # other sums the words may state (受理: with 上年结转)


class NarrativeFigures(_Model):
    scope: tuple[str, ...]
    headings: tuple[str, ...]
    figures: tuple[Figure, ...]


class FindingDef(_Model):
    """A rule_id raised outside the suites ([[findings]]); every rule is one too."""

    id: str
    severity: Literal["error", "warning"]
    description: str


class _Rule(FindingDef):
    stage: Literal["across"] | None = None  # "across": run over the warehouse by nianbao/check/across.py


class SumRule(_Rule):
    """Per value of `per`, the cells `left` sum to those `right` (codes along `along`)."""

    kind: Literal["sum"]
    dataset: str
    along: str
    per: str
    left: tuple[str, ...]
    right: tuple[str, ...]
    _results: tuple[str, ...] = PrivateAttr(default=())

    def sides(self, printed: Collection[str] | None = None) -> tuple[list[str], list[str]]:
        """The codes of each side, "@result" standing for every result row (of those `printed`, when given)."""
        results = [c for c in self._results if printed is None or c in printed]
        expand = lambda codes: [c for code in codes for c in (results if code == "@result" else [code])]  # noqa: E731
        return expand(self.left), expand(self.right)


class CompleteRule(_Rule):
    kind: Literal["complete"]
    datasets: tuple[str, ...]


class PrintedRule(_Rule):
    """Every cell of `datasets` the report's edition has is printed (sections.complete)."""

    kind: Literal["printed"]
    datasets: tuple[str, ...]


class RangeRule(_Rule):
    kind: Literal["value_range"]
    datasets: tuple[str, ...]


class MetadataRule(_Rule):
    """A column of `reports` is known, and (YearRule) in range."""

    kind: Literal["metadata"]
    column: str


class YearRule(MetadataRule):
    min: int
    max: int | Literal["current_year"]

    def upper(self) -> int:
        return current_year() if self.max == "current_year" else self.max


class TextFigureRule(_Rule):
    kind: Literal["text_figure"]
    sections: tuple[str, ...]


class DeadlineRule(_Rule):
    kind: Literal["deadline"]
    column: str
    deadline: tuple[int, int]  # (month, day) of the year after the report's


class ChainRule(_Rule):
    kind: Literal["chain"]
    dataset: str
    along: str
    per: str
    only: tuple[str, ...] | None = None
    this: tuple[str, ...]
    last: tuple[str, ...]


class CopiedRule(_Rule):
    kind: Literal["copied"]
    sections: tuple[str, ...]
    max: float
    boilerplate_agencies: int
    min_chars: int
    passage: int  # characters in a passage (shingle)
    sample: int  # one passage in `sample` is compared


class Indicator(_Model):
    """An indicator ([[indicators]]): the sum of the `numerator` cells over that of the `denominator`
    cells (none for a count). Cells are `dataset:row/column`, a row alone meaning its total column,
    a leading "-" subtracting the cell."""

    id: str
    name_zh: str
    name_en: str
    numerator: tuple[str, ...]
    denominator: tuple[str, ...]
    unit: Literal["count", "rate", "ratio"]
    min_denominator: float = Field(ge=0)
    version: int = Field(ge=1)

    def terms(self, side: Literal["numerator", "denominator"]) -> list[tuple[str, float]]:
        """(cell as dataset:row/column, +1.0 or -1.0) of one side."""
        out = []
        for cell in getattr(self, side):
            sign, cell = (-1.0, cell[1:]) if cell.startswith("-") else (1.0, cell)
            out.append((cell if "/" in cell else f"{cell}/total", sign))
        return out

    def formula(self) -> str:
        """The definition in words, e.g. `(disclosed + partly_disclosed) / handled_total`."""

        def side(name):
            text = " + ".join(
                c.split(":", 1)[1].removesuffix("/total") if s > 0 else "- " + c.split(":", 1)[1].removesuffix("/total")
                for c, s in self.terms(name)
            )
            text = text.replace("+ -", "-")
            return f"({text})" if len(getattr(self, name)) > 1 else text

        return side("numerator") + (f" / {side('denominator')}" if self.denominator else "")


class Problem(_Model):
    """A kind of data-quality problem ([[quality]]): the findings of these rules, counted."""

    code: str
    label: str
    rules: tuple[str, ...]


Rule = (
    SumRule
    | CompleteRule
    | PrintedRule
    | RangeRule
    | YearRule
    | MetadataRule
    | TextFigureRule
    | DeadlineRule
    | ChainRule
    | CopiedRule
)
# "metadata" with min/max is a YearRule: the union tries the stricter model first
_RULE = Annotated[Rule, Field(union_mode="left_to_right")]


class Spec(_Model):
    """template.toml as read: every table, key and type checked on load."""

    sections: dict[str, tuple[str, str]]  # code -> (number, heading)
    pages: Pages
    narratives: Narratives
    agencies: Agencies
    narrative_figures: NarrativeFigures
    active_disclosure: ActiveDisclosure
    applications: Applications
    reviews_litigation: ReviewsLitigation
    rules: tuple[_RULE, ...]
    findings: tuple[FindingDef, ...]
    indicators: tuple[Indicator, ...]
    quality: tuple[Problem, ...]

    @model_validator(mode="after")
    def _sums_know_their_cells(self) -> Spec:
        results = tuple(d.code for d in self.applications.rows if d.result)
        for r in self.rules:
            if isinstance(r, SumRule):
                r._results = results  # what "@result" stands for
        return self

    @model_validator(mode="after")
    def _indicators_name_template_cells(self) -> Spec:
        ad, ap, rl = self.active_disclosure, self.applications, self.reviews_litigation
        codes = {
            "active_disclosure": ({d.code for d in ad.items}, {d.code for d in ad.metrics}),
            "applications": ({d.code for d in ap.rows}, {c for c, _ in ap.columns}),
            "reviews_litigation": ({c for c, _ in rl.proceedings}, {c for c, _ in rl.outcomes}),
        }
        ids = [d.id for d in self.indicators]
        if len(ids) != len(set(ids)):
            raise ValueError(f"indicator ids are not unique: {ids}")
        for d in self.indicators:
            if (d.unit == "count") != (not d.denominator):
                raise ValueError(f"indicator {d.id}: a count has no denominator, and only a count")
            for side in ("numerator", "denominator"):
                for cell, _ in d.terms(side):
                    dataset, _, key = cell.partition(":")
                    row, _, column = key.partition("/")
                    if dataset not in codes or row not in codes[dataset][0] or column not in codes[dataset][1]:
                        raise ValueError(f"indicator {d.id}: {cell} is no template cell")
        known = {r.id for r in [*self.rules, *self.findings]}
        for p in self.quality:
            if set(p.rules) - known:
                raise ValueError(f"quality problem {p.code}: unknown rules {sorted(set(p.rules) - known)}")
        return self


class Template:
    """The template's typed spec, and the lookups the matchers share (labels squashed once)."""

    def __init__(self, spec: Spec):
        self.spec = spec
        self.sections = {code: (num, squash(head)) for code, (num, head) in spec.sections.items()}
        self.narrative_sections: list[str] = list(spec.narratives.sections)
        self.table_words = tuple(squash(w) for w in spec.pages.table_words)
        ad = spec.active_disclosure
        self.ad_header = squash(ad.header)
        self.ad_ignore = {squash(t) for t in ad.ignore}
        self.ad_items = Labels(_label(d) for d in ad.items)
        self.ad_metrics = Labels(_label(d) for d in ad.metrics)
        self.metric_kind = {d.code: d.kind for d in ad.metrics}
        self.ad_printed = {edition: dict(cells) for edition, cells in ad.printed.items()}
        ap = spec.applications
        self.applicants = [code for code, _ in ap.columns]
        self.app_groups = {squash(t) for t in ap.groups}
        self.app_rows = Labels(_label(d) for d in ap.rows)
        self.result_rows = [d.code for d in ap.rows if d.result]
        rl = spec.reviews_litigation
        self.rl_header = squash(rl.header)
        self.proceedings = [code for code, _ in rl.proceedings]
        self.outcomes = [code for code, _ in rl.outcomes]
        self.rules: list[Rule] = list(spec.rules)
        self.severity = {r.id: r.severity for r in [*spec.rules, *spec.findings]}
        self.indicators: list[Indicator] = list(spec.indicators)
        self.problems: list[Problem] = list(spec.quality)
        self.versions = {
            section: {d.code: set(d.versions) for d in entries}
            for section, entries in (("items", ad.items), ("metrics", ad.metrics), ("rows", ap.rows))
        }

    def names_row(self, text: str) -> bool:
        """`text` is a row's label of section 二 or 三, or a group's of section 三 (（五）不予处理)."""
        return bool(find(self.app_rows, text) or find(self.ad_items, text)) or (
            squash(split_numbering(text)[1]) in self.app_groups
        )

    def rule(self, rule_id: str) -> Rule:
        return next(r for r in self.rules if r.id == rule_id)

    def dictionary_rows(self) -> list[dict]:
        """Every code with its Chinese label and the editions that print it."""
        out = []
        ad, ap, rl = self.spec.active_disclosure, self.spec.applications, self.spec.reviews_litigation
        for column, entries in (("item", ad.items), ("metric", ad.metrics)):
            for d in entries:
                out.append(_dict_row("active_disclosure", column, d.code, d.labels, d.versions))
        for d in ap.rows:
            out.append(_dict_row("applications", "row", d.code, [d.printed, *d.labels[1:]], d.versions))
        for code, label in ap.columns:
            out.append(_dict_row("applications", "applicant", code, [label], ["2019", "2021"]))
        for column, entries in (("proceeding", rl.proceedings), ("outcome", rl.outcomes)):
            for code, label in entries:
                out.append(_dict_row("reviews_litigation", column, code, [label], ["2019", "2021"]))
        for code, (num, head) in self.spec.sections.items():
            if code in self.narrative_sections:
                out.append(_dict_row("narratives", "section", code, [f"{num}、{head}"], ["2019", "2021"]))
        for r in [*self.rules, *self.spec.findings]:
            out.append(_dict_row("findings", "rule_id", r.id, [r.description], ["2019", "2021"], r.severity))
        for d in self.indicators:
            out.append(
                _dict_row("indicators", "indicator", d.id, [d.name_zh, d.name_en, d.formula()], ["2019", "2021"])
            )
        for p in self.problems:
            out.append(_dict_row("quality", "problem", p.code, [p.label, *p.rules], ["2019", "2021"]))
        return out


def current_year() -> int:
    return dt.date.today().year


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


def _label(d: Item) -> Label:
    if isinstance(d, Row):
        return Label(d.code, tuple(squash(t) for t in d.labels), canonical_number(d.number), d.needs_number)
    return Label(d.code, tuple(squash(t) for t in d.labels))


class Labels(tuple):
    """A table's labels in the template's order, indexed by their texts: find() looks up the few
    a cell may be instead of trying every one (it runs on every cell of every table), and
    find_approximate() remembers what it made of a text."""

    def __new__(cls, labels):
        self = super().__new__(cls, labels)
        self.by_text: dict[str, list[int]] = {}
        for i, lab in enumerate(self):
            for t in lab.texts:
                self.by_text.setdefault(t, []).append(i)
        self.approximate: dict[tuple, Label | None] = {}
        return self

    def candidates(self, text: str) -> list[Label]:
        """The labels whose texts are `text`, or `text` less a trailing (note): in order."""
        keys = [text, *(text[:p] for p, ch in enumerate(text) if ch == "(")] if text.endswith(")") else [text]
        return [self[i] for i in sorted({i for k in keys for i in self.by_text.get(k, ())})]


def find(labels: list[Label] | Labels, cell: str) -> Label | None:
    number, text = split_numbering(cell)
    return next(
        (
            lab
            for lab in (labels.candidates(text) if isinstance(labels, Labels) else labels)
            if lab.matches(number, text)
        ),
        None,
    )


def find_approximate(labels: list[Label] | Labels, cell: str, cutoff: float = 0.86) -> Label | None:
    """A label misprinted by a character or two (其他法律行政止公开); the caller records a finding."""
    number, text = split_numbering(cell)
    if len(text) < 6:
        return None
    known = labels.approximate if isinstance(labels, Labels) else {}
    if (number, text, cutoff) in known:
        return known[number, text, cutoff]
    best, score = None, cutoff
    for lab in labels:
        for t in lab.texts:
            r = difflib.SequenceMatcher(None, text, t).ratio()
            if r >= score and (
                number is None or lab.number is None or number.rstrip(".、") == lab.number.rstrip(".、")
            ):
                best, score = lab, r
    if len(known) > 10_000:  # text dumps are matched in the flow's process: its memory stays flat
        known.clear()
    known[number, text, cutoff] = best
    return best


@cache
def template() -> Template:
    with resources.files("nianbao.model").joinpath("template.toml").open("rb") as f:
        return Template(Spec.model_validate(tomllib.load(f)))
