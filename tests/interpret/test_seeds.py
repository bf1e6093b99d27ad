"""The five seed reports, cell by cell, as read off ../shared/seeds/ by hand (and checked twice)."""

import pytest
from conftest import seed

from nianbao.acquire.sources import Source
from nianbao.model.template import template
from nianbao.run.pipeline import process_batch

ROWS_2021 = [r.code for r in template().app_rows if r.code != "other"]
ROWS_2019_SIX = [r.code for r in template().app_rows if not r.code.startswith("other_")]
ZERO7 = ["0"] * 7
ZERO15 = ["0"] * 15

AD_2021_ZERO = {
    ("regulations", "issued"): "0",
    ("regulations", "repealed"): "0",
    ("regulations", "in_force"): "0",
    ("normative_documents", "issued"): "0",
    ("normative_documents", "repealed"): "0",
    ("normative_documents", "in_force"): "0",
    ("licensing", "decisions"): "0",
    ("penalty", "decisions"): "0",
    ("coercion", "decisions"): "0",
    ("fees", "amount_10k_yuan"): "0",
}

EXPECTED = {
    "000": dict(
        status="invalid",
        year=None,
        agency="舒兰市小城镇便民服务中心",
        title=None,
        version="2021",
        published_on=None,
        ad={**AD_2021_ZERO, ("coercion", "decisions"): ""},
        apps={r: ZERO7 for r in ROWS_2021},
        rl=ZERO15,
        findings={
            ("metadata.year", "error", ("reports:year",)),
            ("active_disclosure.complete", "warning", ("active_disclosure:coercion/decisions",)),
        },
        narratives={"other_matters": "暂无。"},
    ),
    "001": dict(
        status="valid",
        year=2021,
        agency="宝清县小城子镇",
        title="2021 年度宝清县小城子镇 信息公开工作年度报告",
        version="2021",
        published_on=None,
        ad={**AD_2021_ZERO, ("coercion", "decisions"): ""},
        apps={r: ZERO7 for r in ROWS_2021},
        rl=ZERO15,
        findings={("active_disclosure.complete", "warning", ("active_disclosure:coercion/decisions",))},
        narratives={"other_matters": "无其它需要报告事项。"},
    ),
    "002": dict(
        status="invalid",
        year=2024,
        agency="大安市叉干镇综合服务中心",
        title="大安市叉干镇综合服务中心2024年政府信息公开工作年度报告",
        version="2021",
        published_on=None,
        ad={
            ("regulations", "issued"): "5",
            ("regulations", "repealed"): "0",
            ("regulations", "in_force"): "5",
            ("normative_documents", "issued"): "5",
            ("normative_documents", "repealed"): "0",
            ("normative_documents", "in_force"): "5",
            ("licensing", "decisions"): "3",
            ("penalty", "decisions"): "0",
            ("coercion", "decisions"): "0",
            ("fees", "amount_10k_yuan"): "",
        },
        apps={
            **{r: ZERO7 for r in ROWS_2021},
            "new": ["1", "2", "2", "3", "1", "0", "9"],
            "disclosed": ["1", "2", "2", "3", "1", "0", "9"],
            "handled_total": [""] * 7,
        },
        rl=ZERO15,
        findings={("cells.complete", "error", (f"applications:handled_total/{a}",)) for a in template().applicants}
        | {("active_disclosure.complete", "warning", ("active_disclosure:fees/amount_10k_yuan",))},
        narratives={"other_matters": "无"},
    ),
    "003": dict(
        status="valid",
        year=2021,
        agency="舞钢市朱兰街道办事处",
        title="舞钢市朱兰街道办事处2021年政府信息公开工作年度报告",
        version="2021",
        published_on=None,
        ad=AD_2021_ZERO,
        apps={r: ZERO7 for r in ROWS_2021},
        rl=ZERO15,
        findings={
            ("extraction.stray_cell", "warning", ("applications:handled_total/natural_person",)),
            ("extraction.stray_cell", "warning", ("applications:carried_forward/natural_person",)),
        },
        narratives={"other_matters": "无"},
    ),
    "004": dict(
        status="valid",
        year=2024,
        agency="彭后街道办事处",
        title=None,
        version="mixed",
        published_on="2025-01-20",
        ad={
            ("regulations", "newly_made"): "0",
            ("regulations", "newly_published"): "0",
            ("regulations", "published_total"): "0",
            ("normative_documents", "newly_made"): "0",
            ("normative_documents", "newly_published"): "0",
            ("normative_documents", "published_total"): "0",
            ("licensing", "decisions"): "1782",
            ("penalty", "decisions"): "55",
            ("coercion", "decisions"): "0",
            ("fees", "amount_10k_yuan"): "12.39205",
        },
        apps={r: ZERO7 for r in ROWS_2019_SIX},
        rl=ZERO15,
        findings={("extraction.year_from_signature", "warning", ("reports:year",))},
        narratives={"other_matters": "无其他需要报告事项。"},
    ),
}


@pytest.fixture(scope="module")
def frames():
    sources = [Source(str(seed(p))) for p in sorted(EXPECTED)]
    out = process_batch(sources, "test-run")
    by_seed = {}
    for p, s in zip(sorted(EXPECTED), sources):
        rid = out["reports"].filter(source_uri=s.uri)["report_id"][0]
        by_seed[p] = {name: df.filter(report_id=rid) for name, df in out.items()}
    return by_seed


@pytest.mark.parametrize("prefix", sorted(EXPECTED))
def test_report_row(frames, prefix):
    exp = EXPECTED[prefix]
    r = frames[prefix]["reports"].row(0, named=True)
    assert (r["status"], r["year"], r["agency"], r["title"], r["template_version"]) == (
        exp["status"],
        exp["year"],
        exp["agency"],
        exp["title"],
        exp["version"],
    )
    assert (r["published_on"].isoformat() if r["published_on"] else None) == exp["published_on"]
    assert r["source_format"] == "txt" and len(r["report_id"]) == 64
    assert r["error_count"] == sum(1 for f in exp["findings"] if f[1] == "error")
    assert r["warning_count"] == sum(1 for f in exp["findings"] if f[1] == "warning")


@pytest.mark.parametrize("prefix", sorted(EXPECTED))
def test_findings(frames, prefix):
    got = {(f["rule_id"], f["severity"], tuple(f["cells"])) for f in frames[prefix]["findings"].to_dicts()}
    assert got == EXPECTED[prefix]["findings"]


@pytest.mark.parametrize("prefix", sorted(EXPECTED))
def test_active_disclosure_cells(frames, prefix):
    got = {(c["item"], c["metric"]): c["raw"] for c in frames[prefix]["active_disclosure"].to_dicts()}
    assert got == EXPECTED[prefix]["ad"]
    values = {(c["item"], c["metric"]): c["value"] for c in frames[prefix]["active_disclosure"].to_dicts()}
    for key, raw in EXPECTED[prefix]["ad"].items():
        assert (str(values[key].normalize()) if values[key] is not None else "") == raw


@pytest.mark.parametrize("prefix", sorted(EXPECTED))
def test_applications_cells(frames, prefix):
    apps = template().applicants
    got = {}
    for c in frames[prefix]["applications"].to_dicts():
        got.setdefault(c["row"], [None] * 7)[apps.index(c["applicant"])] = c["raw"]
        assert c["value"] == (int(c["raw"]) if c["raw"] else None)
    assert got == EXPECTED[prefix]["apps"]


@pytest.mark.parametrize("prefix", sorted(EXPECTED))
def test_reviews_litigation_cells(frames, prefix):
    t = template()
    order = [(p, o) for p in t.proceedings for o in t.outcomes]
    got = {(c["proceeding"], c["outcome"]): c["raw"] for c in frames[prefix]["reviews_litigation"].to_dicts()}
    assert [got[k] for k in order] == EXPECTED[prefix]["rl"] and len(got) == 15


@pytest.mark.parametrize("prefix", sorted(EXPECTED))
def test_narratives(frames, prefix):
    got = {n["section"]: n["text"] for n in frames[prefix]["narratives"].to_dicts()}
    assert set(got) == {"overview", "problems", "other_matters"}
    for section, text in EXPECTED[prefix]["narratives"].items():
        assert got[section] == text


def test_narrative_text_is_the_section(frames):
    n = {r["section"]: r["text"] for r in frames["001"]["narratives"].to_dicts()}
    assert n["overview"].startswith("2021 年，小城子镇人民政府在县委")
    assert n["overview"].endswith("为我镇经济社会发展环境持续优化发挥积极推动作用。")
    assert n["problems"].startswith("（一）存在问题\n一是个别部门思想认识不到位")
    assert n["problems"].endswith("提高公众对政务公开工作的认知度。")


def test_manifest_year_makes_seed_000_valid(tmp_path):
    manifest = tmp_path / "m.csv"
    manifest.write_text(f"uri,year\n{seed('000')},2024\n", encoding="utf-8")
    from nianbao.acquire.sources import resolve

    out = process_batch(resolve([str(manifest)], allow_outside=True), "test-run")  # the seed is elsewhere
    r = out["reports"].row(0, named=True)
    assert (r["status"], r["year"], r["error_count"]) == ("valid", 2024, 0)
