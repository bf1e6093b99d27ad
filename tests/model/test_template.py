"""The template definition: label variants, the generated suites, the dictionary."""

import datetime as dt
import json
import tomllib
from importlib import resources

import pytest
from pydantic import ValidationError

from nianbao.check import rules, validate
from nianbao.model.findings import Finding
from nianbao.model.settings import settings
from nianbao.model.template import MetadataRule, Spec, SumRule, YearRule, find, split_numbering, squash, template

T = template()


def _toml() -> dict:
    return tomllib.loads(resources.files("nianbao.model").joinpath("template.toml").read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    "cell,code",
    [
        ("（七）总计", "handled_total"),
        ("(七) 总计", "handled_total"),
        ("3. 其他", "other_other"),
        ("2.其他法律行政止公开", "withheld_prohibited"),
        ("2.其他法律法规禁止公开", "withheld_prohibited"),
        ("（二）部分公开（区分处理的，只计这一情形，不计其他情形）", "partly_disclosed"),
        ("(二) 部分公开(区分处理的, 只计这一情形, 不计其他情形)", "partly_disclosed"),
        ("3.危及“三安全一稳定”", "withheld_security_stability"),
        ("(六)其他处理", "other"),
        ("四、结转下年度继续办理", "carried_forward"),
        ("4、结转下年度继续办理", "carried_forward"),
    ],
)
def test_application_row_variants(cell, code):
    assert find(T.app_rows, cell).code == code


@pytest.mark.parametrize("cell", ["总计", "其他", "自\n然\n人", "申请人情况", "三、本年度办理结果"])
def test_headers_are_not_rows(cell):
    assert find(T.app_rows, cell) is None


def test_numbering_and_width():
    assert split_numbering("（三）不予公开") == ("(3)", "不予公开")
    assert split_numbering("3、 收到和处理") == ("3、", "收到和处理")
    assert split_numbering("三、收到和处理") == ("3、", "收到和处理")
    assert squash("本年新 制作数量") == "本年新制作数量"
    assert find(T.ad_items, "规范性文件").code == find(T.ad_items, "行政规范性文件").code == "normative_documents"
    assert find(T.ad_metrics, "本年收费金额（单位：万元，保留4位小数）").code == "amount_10k_yuan"


def test_kept_suites_are_generated_from_the_template():
    for rule in T.rules:
        kept = json.loads((settings().expectations / f"{rule.id}.json").read_text(encoding="utf-8"))
        assert kept == validate.suite_document(rule), f"expectations/{rule.id}.json is stale: run make suites"
    assert len(list(settings().expectations.glob("*.json"))) == len(T.rules)


def test_dictionary_names_every_code_with_its_label():
    rows = {(r["dataset"], r["column"], r["code"]): r for r in T.dictionary_rows()}
    assert rows[("applications", "row", "handled_total")]["label"] == "（七）总计"
    assert rows[("applications", "row", "other")]["template_versions"] == ["2019"]
    assert rows[("active_disclosure", "item", "normative_documents")]["variants"] == ["规范性文件"]
    assert rows[("reviews_litigation", "proceeding", "litigation_direct")]["label"] == "未经复议直接起诉"
    assert len([k for k in rows if k[0] == "applications" and k[1] == "row"]) == 26
    assert {k[2] for k in rows if k[0] == "findings"} == {r.id for r in [*T.rules, *T.spec.findings]}


def test_unknown_keys_and_kinds_are_rejected():
    def broken(edit) -> dict:
        data = _toml()
        edit(data)
        return data

    for edit in (
        lambda d: d["applications"]["rows"][0].update(nubmer="一、"),  # a typo
        lambda d: d["rules"][0].update(rigth=["new"]),
        lambda d: d["rules"][0].update(kind="product"),
        lambda d: d["findings"][0].update(severity="fatal"),
        lambda d: d.update(extra={}),
    ):
        with pytest.raises(ValidationError):
            Spec.model_validate(broken(edit))
    spec = Spec.model_validate(_toml())
    assert spec.rules[0].id == "applications.balance" and spec.rules[2].sides()[1] == T.result_rows


def test_the_year_rule_reads_its_upper_bound():
    year = T.rule("metadata.year")
    assert isinstance(year, YearRule) and (year.min, year.max) == (2008, "current_year")
    assert year.upper() == dt.date.today().year
    fixed = year.model_copy(update={"max": 2020})
    assert fixed.upper() == 2020
    assert rules.expectations(fixed)[1]["kwargs"] == {"column": "year", "min_value": 2008, "max_value": 2020}
    assert rules.expectations(year)[1]["kwargs"]["max_value"] == {"$PARAMETER": "current_year"}
    assert isinstance(T.rule("metadata.agency"), MetadataRule) and not isinstance(T.rule("metadata.agency"), YearRule)


def test_a_sum_rule_expands_result_rows_once():
    handled = T.rule("applications.handled_total")
    assert isinstance(handled, SumRule) and handled.right == ("@result",)
    left, right = handled.sides()
    assert left == ["handled_total"] and right == T.result_rows and len(right) == 22
    assert handled.sides(printed={"disclosed", "other", "new"}) == (["handled_total"], ["disclosed", "other"])
    assert T.rule("applications.balance").sides(printed=set()) == (
        ["new", "carried_over"],
        ["handled_total", "carried_forward"],
    )  # no "@result": nothing filtered


def test_finding_of_takes_the_severity_from_the_template():
    f = Finding.of("extraction.stray_cell", "m", ["applications:new/total"], observed="1 | 2")
    assert (f.rule_id, f.severity, f.cells, f.expected, f.observed) == (
        "extraction.stray_cell",
        "warning",
        ["applications:new/total"],
        None,
        "1 | 2",
    )
    assert Finding.of("document.unreadable", "m").severity == "error"
    assert Finding.of("metadata.late", "m").severity == "warning"
    with pytest.raises(KeyError, match="extraction.stray_cells"):
        Finding.of("extraction.stray_cells", "m")


def test_data_dictionary_doc_is_current():
    from nianbao.report import dictionary

    assert dictionary.PATH.read_text(encoding="utf-8") == dictionary.markdown(), "run make docs"


def test_every_finding_the_pipeline_emits_is_in_the_template(tmp_path):
    """The product, not the source: a report misprinted in every way the matcher notes, and the
    samples, through the pipeline; each finding carries its template severity."""
    from conftest import ROOT

    from nianbao.acquire.sources import resolve
    from nianbao.run import pipeline

    text = (ROOT / "data/samples/sample_valid_2023.txt").read_text(encoding="utf-8")
    lines = text.splitlines()
    misprinted = [
        line.replace("禁止公开", "禁上公开").replace(  # extraction.label_approximate
            "本年处理决定数量", "本年处理决议数量"
        )  # extraction.unknown_label
        for line in lines[4:]  # no title, no period: extraction.year_from_signature
        if not line.startswith("（七）总计")  # sections.complete
    ]
    carried = next(i for i, line in enumerate(misprinted) if line.startswith("二、上年结转"))
    misprinted[carried + 1 : carried + 1] = [misprinted[carried]]  # extraction.duplicate_row
    misprinted[carried] += "\t7"  # extraction.stray_cell
    (tmp_path / "misprinted.txt").write_text("\n".join(misprinted), encoding="utf-8")
    frames = pipeline.process_batch(resolve([str(ROOT / "data/samples"), str(tmp_path)]), "r", processes=False)
    emitted = {
        (rule_id, severity) for rule_id, severity in frames["findings"].select("rule_id", "severity").iter_rows()
    }
    assert emitted == {  # the stray cell kept shifts the row: its sums break too
        ("applications.balance", "error"),
        ("applications.row_total", "error"),
        ("applications.handled_total", "error"),
        ("sections.complete", "error"),
        ("document.unreadable", "error"),
        ("extraction.duplicate_row", "warning"),
        ("extraction.label_approximate", "warning"),
        ("extraction.unread_cell", "error"),
        ("extraction.stray_cell", "warning"),
        ("extraction.unknown_label", "warning"),
        ("extraction.year_from_signature", "warning"),
    }
    assert all(T.severity[rule_id] == severity for rule_id, severity in emitted)


def test_find_through_the_index_is_find_through_every_label():
    from nianbao.model.template import Labels, find, find_approximate, template

    t = template()
    for labels in (t.app_rows, t.ad_items, t.ad_metrics):
        assert isinstance(labels, Labels)
        cells = ["", "12", "其他", "（三）不予公开", "3.其他", "3、其他", "1.属于国家秘密(件)", "合计（含撤回）"]
        for lab in labels:
            for text in lab.texts:
                cells += [
                    text,
                    f"{lab.number or ''}{text}",
                    f"{text}（注）",
                    f"{text}(1)(2)",
                    f"（一）{text}",
                    f"{text}x",
                    f"2.{text}",
                    text[:-1],
                    text[1:] + "（）",
                ]
        found = [(find(labels, c), find_approximate(labels, c)) for c in cells]
        assert found == [(find(list(labels), c), find_approximate(list(labels), c)) for c in cells]
        assert sum(f is not None for f, _ in found) > len(labels)  # the cells do name labels
        assert found == [(find(labels, c), find_approximate(labels, c)) for c in cells]  # remembered: the same
