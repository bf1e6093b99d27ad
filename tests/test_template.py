"""The template definition: label variants, the generated suites, the dictionary."""
import json

import pytest

from nianbao import validate
from nianbao.template import find, split_numbering, squash, template

T = template()


@pytest.mark.parametrize("cell,code", [
    ("（七）总计", "handled_total"), ("(七) 总计", "handled_total"), ("3. 其他", "other_other"),
    ("2.其他法律行政止公开", "withheld_prohibited"), ("2.其他法律法规禁止公开", "withheld_prohibited"),
    ("（二）部分公开（区分处理的，只计这一情形，不计其他情形）", "partly_disclosed"),
    ("(二) 部分公开(区分处理的, 只计这一情形, 不计其他情形)", "partly_disclosed"),
    ("3.危及“三安全一稳定”", "withheld_security_stability"), ("(六)其他处理", "other"),
    ("四、结转下年度继续办理", "carried_forward"), ("4、结转下年度继续办理", "carried_forward"),
])
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
        kept = json.loads((validate.EXPECTATIONS_DIR / f"{rule['id']}.json").read_text(encoding="utf-8"))
        assert kept == validate.suite_document(rule), f"expectations/{rule['id']}.json is stale: run make suites"
    assert len(list(validate.EXPECTATIONS_DIR.glob("*.json"))) == len(T.rules)


def test_dictionary_names_every_code_with_its_label():
    rows = {(r["dataset"], r["column"], r["code"]): r for r in T.dictionary_rows()}
    assert rows[("applications", "row", "handled_total")]["label"] == "（七）总计"
    assert rows[("applications", "row", "other")]["template_versions"] == ["2019"]
    assert rows[("active_disclosure", "item", "normative_documents")]["variants"] == ["规范性文件"]
    assert rows[("reviews_litigation", "proceeding", "litigation_direct")]["label"] == "未经复议直接起诉"
    assert len([k for k in rows if k[0] == "applications" and k[1] == "row"]) == 26
    assert {k[2] for k in rows if k[0] == "findings"} == {r["id"] for r in [*T.rules, *T.data["findings"]]}


def test_every_finding_the_code_raises_is_in_the_dictionary():
    import re

    from conftest import ROOT

    raised = set()
    for path in (ROOT / "nianbao").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        raised |= set(re.findall(r'"((?:extraction|document)\.[a-z_]+)"', text))
        raised |= {f"extraction.{k}" for k in re.findall(r'notes\.append\(\("([a-z_]+)"', text)}
    assert raised == {f["id"] for f in T.data["findings"]}


def test_data_dictionary_doc_is_current():
    from nianbao import dictionary

    assert dictionary.PATH.read_text(encoding="utf-8") == dictionary.markdown(), "run make docs"
