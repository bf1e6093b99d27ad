"""Crawler text in which table cells run together: small pages of our own, then the six Pingtan pages."""

import pytest
from conftest import REAL, missing

from nianbao.extract.runtogether import looks_run_together, recover
from nianbao.interpret.match import match
from nianbao.interpret.metadata import read
from nianbao.model.document import Paragraph, Table
from nianbao.model.errors import Unreadable

# Section 三 as the official form prints it, in order; None marks a group label with no cells.
_APPLICATIONS = [
    ("new", "一、本年新收政府信息公开申请数量"),
    ("carried_over", "二、上年结转政府信息公开申请数量"),
    (None, "三、本年度办理结果"),
    ("disclosed", "（一）予以公开"),
    ("partly_disclosed", "（二）部分公开（区分处理的，只计这一情形，不计其他情形）"),
    (None, "（三）不予公开"),
    ("withheld_state_secret", "1.属于国家秘密"),
    ("withheld_prohibited", "2.其他法律行政法规禁止公开"),
    ("withheld_security_stability", "3.危及“三安全一稳定”"),
    ("withheld_third_party", "4.保护第三方合法权益"),
    ("withheld_internal_affairs", "5.属于三类内部事务信息"),
    ("withheld_process_info", "6.属于四类过程性信息"),
    ("withheld_enforcement_file", "7.属于行政执法案卷"),
    ("withheld_admin_query", "8.属于行政查询事项"),
    (None, "（四）无法提供"),
    ("unavailable_not_held", "1.本机关不掌握相关政府信息"),
    ("unavailable_needs_creation", "2.没有现成信息需要另行制作"),
    ("unavailable_still_unclear", "3.补正后申请内容仍不明确"),
    (None, "（五）不予处理"),
    ("rejected_petition", "1.信访举报投诉类申请"),
    ("rejected_duplicate", "2.重复申请"),
    ("rejected_publication", "3.要求提供公开出版物"),
    ("rejected_excessive", "4.无正当理由大量反复申请"),
    ("rejected_confirmation", "5.要求行政机关确认或重新出具已获取信息"),
    ("OTHER", None),
    ("handled_total", "（七）总计"),
    ("carried_forward", "四、结转下年度继续办理"),
]
_OTHER_2021 = [
    (None, "（六）其他处理"),
    ("other_overdue_correction", "1.申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请"),
    ("other_unpaid_fee", "2.申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其政府信息公开申请"),
    ("other_other", "3.其他"),
]
_TWO_2021 = (
    "第二十条第（一）项信息内容本年制发件数本年废止件数现行有效件数规章0010行政规范性文件123"
    "第二十条第（五）项信息内容本年处理决定数量行政许可57第二十条第（八）项信息内容本年收费金额（单位：万元）"
    "行政事业性收费1.5"
)
_TWO_2019 = (
    "第二十条第（一）项信息内容本年新制作数量本年新公开数量对外公开总数量规章007规范性文件7777166"
    "第二十条第（八）项信息内容上一年项目数量本年增/减行政事业性收费35-15"
)
_FOUR_HEADER = (
    "行政复议行政诉讼结果维持结果纠正其他结果尚未审结总计未经复议直接起诉复议后起诉"
    + "结果维持结果纠正其他结果尚未审结总计" * 2
)


def page(runs: dict[str, str], edition: str = "2021", four: str = "0" * 15) -> str:
    """A crawler page: header lines, a breadcrumb, then the report on one line with cells run together."""
    three = ""
    for code, label in _APPLICATIONS:
        if code == "OTHER":
            rows = _OTHER_2021 if edition == "2021" else [("other", "（六）其他处理")]
            three += "".join(lab + (runs.get(c, "0000000") if c else "") for c, lab in rows)
        else:
            three += label + (runs.get(code, "0000000") if code else "")
    return (
        "标题: 测试区2021年度政府信息公开工作年度报告\n发布时间: 2022-01-28 09:00\n文号: \n"
        "原文链接: https://example.org/t20220128_1.htm\n页面链接与图片详见 links.tsv(同目录)\n"
        "==================== 正文 ====================\n"
        "当前位置： 首页政务公开 测试区2021年度政府信息公开工作年度报告 来源：测试区 相关链接： --> "
        "本报告所列数据的统计期限自2021年1月1日起至2021年12月31日止。一、总体情况全年主动公开信息10条。"
        "二、主动公开政府信息情况 "
        + (_TWO_2021 if edition == "2021" else _TWO_2019)
        + "三、收到和处理政府信息公开申请情况（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）"
        "申请人情况自然人法人或其他组织总计商业企业科研机构社会公益组织法律服务机构其他"
        + three
        + "四、政府信息公开行政复议、行政诉讼情况"
        + _FOUR_HEADER
        + four
        + "五、存在的主要问题及改进情况解读形式单一。六、其他需要报告的事项无。 附件下载"
    )


def cells(blocks, dataset="applications"):
    m = match(blocks)
    return {c.key: c.raw for c in getattr(m, dataset)}, m


def row(values, code):
    cols = ("natural_person", "commercial", "research", "social_welfare", "legal_services", "other_org", "total")
    return tuple(values.get((code, c)) for c in cols)


def four(values):
    return tuple(
        values[(p, o)]
        for p in ("review", "litigation_direct", "litigation_after_review")
        for o in ("upheld", "corrected", "other", "pending", "total")
    )


def test_detector_wants_labels_followed_by_runs_of_digits():
    assert looks_run_together(page({}))
    tab_grid = "\n".join(f"{lab}\t0\t0\t0\t0\t0\t0\t0" for code, lab in _APPLICATIONS if code and lab)
    assert not looks_run_together(tab_grid)
    spaced = "\n".join(f"{lab} 0 0 0 0 0 0 0" for code, lab in _APPLICATIONS if code and lab)
    assert not looks_run_together(spaced)


def test_crawler_header_and_breadcrumb_are_dropped():
    blocks = recover(page({}))
    paras = [b.text for b in blocks if isinstance(b, Paragraph)]
    assert paras[0] == "测试区2021年度政府信息公开工作年度报告"
    assert paras[1].startswith("本报告所列数据")  # no 发布时间/原文链接/当前位置 lines
    assert not any("附件下载" in p or "原文链接" in p for p in paras)
    meta = read(paras)
    assert (meta.year, meta.agency) == (2021, "测试区")
    _, m = cells(blocks)
    assert m.narratives == {"overview": "全年主动公开信息10条。", "problems": "解读形式单一。", "other_matters": "无。"}


def test_row_sums_then_column_sums_pick_the_one_reading():
    # new and handled_total read 12,1,…,13 or 1,2,10,…,13; disclosed 10,1,…,11 or 1,0,10,…,11.
    # Only natural_person 12 = 10 (disclosed) + 2 (state secret) balances. "2000002" is followed
    # by "2.其他法律…": that 2 is the next row's number, not a cell.
    runs = {
        "new": "121000013",
        "handled_total": "121000013",
        "disclosed": "101000011",
        "withheld_state_secret": "2000002",
    }
    values, m = cells(recover(page(runs)))
    assert row(values, "new") == row(values, "handled_total") == ("12", "1", "0", "0", "0", "0", "13")
    assert row(values, "disclosed") == ("10", "1", "0", "0", "0", "0", "11")
    assert row(values, "withheld_state_secret") == ("2", "0", "0", "0", "0", "0", "2")
    assert row(values, "withheld_prohibited") == ("0",) * 7
    assert not m.findings


def test_a_row_the_sums_cannot_settle_is_unreadable():
    runs = {"new": "220000022", "handled_total": "220000022", "disclosed": "220000022"}  # 22,0,… or 2,20,…
    with pytest.raises(Unreadable, match=r"^section 三 row new: 2 readings of '220000022'$"):
        recover(page(runs))


def test_a_row_no_reading_fits_is_unreadable():
    # 10,0,0,0,0,1,0 or 1,0,0,0,0,0,10: neither total is the sum of its row
    with pytest.raises(Unreadable, match=r"^section 三 row disclosed: no reading of '10000010' as 7 cells whose"):
        recover(page({"disclosed": "10000010"}))


def test_no_leading_zeros():
    blocks = recover(page({"disclosed": "10000001"}))
    values, _ = cells(blocks)
    # 1,…,0,01 would balance, but 01 is no number: the one cut left is kept as printed and the
    # row's arithmetic is the validator's to report
    assert row(values, "disclosed") == ("10", "0", "0", "0", "0", "0", "1")
    two, _ = cells(blocks, "active_disclosure")
    assert [two[("regulations", m)] for m in ("issued", "repealed", "in_force")] == ["0", "0", "10"]  # not 0,01,0


def test_2021_layout():
    blocks = recover(page({"other_other": "1000001", "handled_total": "1000001"}))
    values, m = cells(blocks)
    assert m.template_version == "2021"
    assert row(values, "other_other") == ("1", "0", "0", "0", "0", "0", "1")
    assert row(values, "other_overdue_correction") == ("0",) * 7
    assert ("other", "total") not in values
    two, _ = cells(blocks, "active_disclosure")
    assert two[("normative_documents", "in_force")] == "3"
    assert two[("licensing", "decisions")] == "57"
    assert two[("fees", "amount_10k_yuan")] == "1.5"


def test_2019_layout_spaces_and_signs():
    runs = {"new": "200 000121", "disclosed": "200 000121", "handled_total": "20 0 00 0 121", "other": "0 0 0 0 0 0 0"}
    blocks = recover(page(runs, edition="2019", four="0 1 1 0 2 1 0 0 0 1 0 0 0 0 0"))
    values, m = cells(blocks)
    assert m.template_version == "2019"
    assert row(values, "new") == row(values, "handled_total") == ("20", "0", "0", "0", "0", "1", "21")
    assert row(values, "other") == ("0",) * 7
    assert ("other_other", "total") not in values
    rl, _ = cells(blocks, "reviews_litigation")
    assert four(rl) == ("0", "1", "1", "0", "2", "1", "0", "0", "0", "1", "0", "0", "0", "0", "0")
    two, _ = cells(blocks, "active_disclosure")
    assert two[("regulations", "published_total")] == "7"
    assert (two[("fees", "items_prev_year")], two[("fees", "items_change")]) == ("35", "-15")
    # section 二 has no sums: a row with several readings is left blank and says why
    assert two[("normative_documents", "newly_made")] == ""
    table = next(b for b in blocks if isinstance(b, Table) and b.rows[1][0] == "规章")
    ((kind, message, named),) = table.notes
    assert kind == "ambiguous_cells"
    assert "section 二 row normative_documents" in message and "15 readings of '7777166'" in message
    assert named == [
        f"active_disclosure:normative_documents/{m}" for m in ("newly_made", "newly_published", "published_total")
    ]


def test_section_four_cut_by_its_totals():
    blocks = recover(page({}, four="10203120001200000"))
    rl, _ = cells(blocks, "reviews_litigation")
    assert four(rl) == ("1", "0", "2", "0", "3", "12", "0", "0", "0", "12", "0", "0", "0", "0", "0")
    with pytest.raises(
        Unreadable, match=r"^section 四: 2 readings of '11000110000000000'$"
    ):  # 1,10,0,0,11 or 11,0,0,0,11
        recover(page({}, four="11000110000000000"))


# ------------------------------------------------------------------------- the six Pingtan pages

PINGTAN = REAL / "changwu__pingtan-gov-zwgk-archive"
Z = ("0",) * 7

# Read off the pages by hand (and checked a second time against the raw runs):
# year: (new, carried_over, handled_total, carried_forward, section 四, other rows)
EXPECTED = {
    2020: (
        "200 000121 / 20 0 00 0 121",
        ("20", "0", "0", "0", "0", "1", "21"),
        Z,
        ("20", "0", "0", "0", "0", "1", "21"),
        Z,
        ("0",) * 15,
        {"disclosed": ("6", "0", "0", "0", "0", "1", "7"), "other": ("4", "0", "0", "0", "0", "0", "4")},
    ),
    2021: (
        "640020470",
        ("64", "0", "0", "2", "0", "4", "70"),
        Z,
        ("63", "0", "0", "2", "0", "4", "69"),
        ("1", "0", "0", "0", "0", "0", "1"),
        ("1", "0", "2", "0", "3", "12", "0", "0", "0", "12", "0", "0", "0", "0", "0"),
        {
            "disclosed": ("27", "0", "0", "2", "0", "1", "30"),  # 270020130: also 2,7,0,0,20,1,30
            "unavailable_not_held": ("22", "0", "0", "0", "0", "3", "25"),
        },
    ),  # 220000325: also 2,20,…
    2022: (
        "713000074",
        ("71", "3", "0", "0", "0", "0", "74"),
        ("1", "0", "0", "0", "0", "0", "1"),
        ("72", "3", "0", "0", "0", "0", "75"),
        Z,
        ("0", "1", "1", "0", "2", "1", "0", "0", "0", "1", "0", "0", "0", "0", "0"),
        {"other_other": ("0", "2", "0", "0", "0", "0", "2")},
    ),
    2023: (
        "801000081",
        ("80", "1", "0", "0", "0", "0", "81"),
        Z,
        ("80", "1", "0", "0", "0", "0", "81"),
        Z,
        ("1", "1", "0", "0", "2", "4", "0", "0", "1", "5", "1", "0", "1", "0", "2"),
        {
            "disclosed": ("22", "0", "0", "0", "0", "0", "22"),  # 220000022: also 2,20,…
            "partly_disclosed": ("19", "1", "0", "0", "0", "0", "20"),
        },
    ),  # 191000020: also 1,9,10,…
    2024: (
        "21710000218",
        ("217", "1", "0", "0", "0", "0", "218"),
        Z,
        ("217", "1", "0", "0", "0", "0", "218"),
        Z,
        ("2", "1", "3", "1", "7", "0", "0", "0", "0", "0", "13", "2", "4", "0", "19"),
        {"withheld_internal_affairs": ("32", "0", "0", "0", "0", "0", "32")},
    ),
    2025: (
        "15130000154",
        ("151", "3", "0", "0", "0", "0", "154"),
        Z,
        ("147", "1", "0", "0", "0", "0", "148"),
        ("4", "2", "0", "0", "0", "0", "6"),
        ("25", "3", "8", "0", "36", "3", "3", "0", "0", "6", "3", "0", "0", "0", "3"),
        {
            "disclosed": ("33", "0", "0", "0", "0", "0", "33"),  # 330000033: also 3,30,…
            "unavailable_not_held": ("49", "1", "0", "0", "0", "0", "50"),
        },
    ),
}


def pingtan(year: int) -> str:
    found = (
        sorted(PINGTAN.glob(f"*_平潭综合实验区{year}年度政府信息公开工作年度报告/page.txt")) if PINGTAN.is_dir() else []
    )
    if not found:
        missing(f"Pingtan {year} page")
    return found[0].read_text(encoding="utf-8")


@pytest.mark.parametrize("year", sorted(EXPECTED))
def test_pingtan(year):
    text = pingtan(year)
    assert looks_run_together(text)
    blocks = recover(text)
    _, new, carried_over, handled, forward, section_four, others = EXPECTED[year]
    values, m = cells(blocks)
    # the only findings: section 二 rows whose digits admit several readings, left blank
    assert {f.rule_id for f in m.findings} <= {"extraction.ambiguous_cells"}
    two, _ = cells(blocks, "active_disclosure")
    assert all(two[tuple(c.split(":")[1].split("/"))] == "" for f in m.findings for c in f.cells)
    assert m.template_version == ("2019" if year == 2020 else "2021")
    assert row(values, "new") == new
    assert row(values, "carried_over") == carried_over
    assert row(values, "handled_total") == handled
    assert row(values, "carried_forward") == forward
    for code, expected in others.items():
        assert row(values, code) == expected, code
    rl, _ = cells(blocks, "reviews_litigation")
    assert four(rl) == section_four
    meta = read([b.text for b in blocks if isinstance(b, Paragraph)])
    assert (meta.title, meta.year, meta.agency) == (
        f"平潭综合实验区{year}年度政府信息公开工作年度报告",
        year,
        "平潭综合实验区",
    )
    assert set(m.narratives) == {"overview", "problems", "other_matters"}


def test_pingtan_section_two():
    two = {year: cells(recover(pingtan(year)), "active_disclosure")[0] for year in (2020, 2021, 2022)}
    assert [two[2020][("regulations", m)] for m in ("newly_made", "newly_published", "published_total")] == [
        "0",
        "0",
        "7",
    ]
    assert (two[2020][("fees", "items_prev_year")], two[2020][("fees", "items_change")]) == ("35", "-15")
    assert two[2020][("penalty", "items_change")] == ""  # 2648-18538: four readings, left blank
    assert two[2021][("licensing", "decisions")] == "2293"
    assert two[2021][("coercion", "decisions")] == "42"
    assert two[2021][("fees", "amount_10k_yuan")] == "24252.311082"
    assert two[2021][("normative_documents", "issued")] == ""  # 693665: ten readings, left blank
    assert two[2022][("licensing", "decisions")] == "10690"
    assert two[2022][("coercion", "decisions")] == "0"


def test_pingtan_2022_heading_typo_and_chain():
    # "行政法复议" in the heading does not hide section 四; 2021's 结转 1 is 2022's 上年结转 1
    blocks = recover(pingtan(2022))
    assert any(isinstance(b, Paragraph) and b.text == "四、政府信息公开行政法复议、行政诉讼情况" for b in blocks)
    assert EXPECTED[2021][4] == EXPECTED[2022][2]
