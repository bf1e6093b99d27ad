"""Across years II (issue 21): what the chains hold, with reports written the ways real ones are
(python-docx, HTML, plain text; tests/years.py), run through the real pipeline, warehouse and suites:
figures after headings, identity under the manifest's region, names cleaned, signatures in Chinese
numerals, edited copies, the region from discovery, the checks on a bucket, and a whole corpus."""

from __future__ import annotations

import csv
import random
from pathlib import Path

import polars as pl
import years

from nianbao import warehouse
from nianbao.acquire.sources import resolve as sources
from nianbao.check import across
from nianbao.interpret.agencies import resolve
from nianbao.run import pipeline
from nianbao.warehouse import publish, storage


def ingest(
    root, folder: Path, docs: dict[str, years.Values], regions: dict[str, str] | None = None, run: str = "r"
) -> pl.DataFrame:
    """Write each report (its format from its name), ingest them as one batch (through a manifest
    when regions are given), publish, run the stage after publishing; returns the reports."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, v in docs.items():
        years.write_report(v, folder / name)
    if regions:
        manifest = folder / "manifest.csv"
        with open(manifest, "w", encoding="utf-8", newline="") as f:
            w = csv.writer(f)
            w.writerow(["uri", "region_code"])
            w.writerows([n, regions[n]] for n in docs)
        specs = [str(manifest)]
    else:
        specs = [str(folder / n) for n in docs]
    frames = pipeline.process_batch(sources(specs), run, processes=False)
    publish.publish(root, frames)
    across.check(root, frames["reports"]["report_id"].to_list(), run)
    return frames["reports"]


def warnings(root, rule: str) -> set[tuple]:
    """(file name, expected, observed) of each finding of `rule` in the warehouse."""
    reports = (
        warehouse.scan("reports", str(root))
        .select("report_id", name=pl.col("source_uri").str.split("/").list.last())
        .collect()
    )
    f = warehouse.scan("findings", str(root)).filter(pl.col("rule_id") == rule).collect()
    return set(f.join(reports, on="report_id").select("name", "expected", "observed").rows())


OWN = [years.sentence(random.Random(n), 14) for n in range(4)]


def values(agency: str, year: int, overview: list[str], **kw) -> years.Values:
    return years.Values(
        agency,
        year,
        overview=[years.BOILERPLATE[0].format(year=year), *overview],
        problems=[OWN[3], years.BOILERPLATE[1]],
        **kw,
    )


# ------------------------------------------------------------------ 1. figures after headings


def test_a_figure_after_a_heading_is_compared_and_a_part_is_not(tmp_path):
    """new 10, carried over 2: a figure right after its heading (own line in DOCX and TXT, the same
    paragraph in HTML) is the agency's; 其中… and 区政府办…受理 are a part's; 受理 12 = 10 + 2."""
    heading = "（二）依申请公开"
    cases = {
        "docx.docx": [heading, "全年共收到政府信息公开申请15件，均按时答复。"],
        "txt.txt": ["（二）依申请公开情况", "本年度新收政府信息公开申请13件。"],
        "html.html": [heading + "\u3000全年共收到政府信息公开申请14件。"],
        "html_lines.html": [heading, "全年共收到政府信息公开申请16件。"],
        # controls
        "right.docx": [heading, "全年共收到政府信息公开申请10件。"],
        "part.txt": [heading, "其中区政府办公室受理政府信息公开申请7件。"],
        "office.html": [heading, "区政府办代表区政府受理政府信息公开申请9件。"],
        "accepted.docx": [heading, "全年共受理政府信息公开申请12件，已全部办结。"],
        "accepted_new.txt": [heading, "全年共受理政府信息公开申请10件。"],
    }
    docs = {
        name: values(f"盱眙县{n}镇人民政府", 2024, [OWN[0], *paras], carried_over=2, carried_forward=1)
        for n, (name, paras) in zip("甲乙丙丁戊己庚辛壬", cases.items())
    }
    root = tmp_path / "wh"
    ingest(root, tmp_path / "d", docs)
    assert warnings(root, "narrative.table_mismatch") == {
        ("docx.docx", "10", "15"),
        ("txt.txt", "10", "13"),
        ("html.html", "10", "14"),
        ("html_lines.html", "10", "16"),
    }


# ------------------------------------------------------------------ 2. identity under a region


def test_under_a_manifest_region_every_printed_place_goes_and_bodies_stay_apart():
    same = [
        ("临江市滨江区人民政府", "滨江区人民政府"),
        ("泰和市建平县白杨镇人民政府", "建平县白杨镇人民政府"),
        ("清河市经开区白杨镇人民政府", "经开区白杨镇"),
    ]
    for region in ("990102", "990100", "330108", "211322"):  # the district's or the city's code, known or not
        for a, b in same:
            assert resolve(a, region).agency_id == resolve(b, region).agency_id, (a, b, region)
    assert resolve("建平县白杨镇人民政府", "211322").agency_id == resolve("白杨镇", "211322").agency_id
    assert resolve("#沐阳县人民政府", "321322").agency_id == resolve("宿迁市沭阳县人民政府", "321322").agency_id
    # a development zone is a body, not a place; so is a zone's committee
    assert resolve("经开区白杨镇", "990400").body == "经开区白杨镇"
    assert resolve("云溪市高新区管理委员会", "990100").agency_id == resolve("高新区管委会", "990100").agency_id
    assert resolve("高新区管委会", "990100").agency_id != resolve("经开区管委会", "990100").agency_id
    # never merged: the same short name in two regions; a city's government and its district's
    assert resolve("甲县白杨镇人民政府", "990321").agency_id != resolve("乙县白杨镇人民政府", "990322").agency_id
    assert resolve("临江市滨江区人民政府", "990100").agency_id != resolve("临江市人民政府", "990100").agency_id
    assert resolve("淮安市洪泽区人民政府", "320800").agency_id != resolve("淮安市人民政府", "320800").agency_id
    assert resolve("淮安市洪泽区人民政府", "320800").agency_id == resolve("洪泽区人民政府").agency_id
    assert resolve("淮安市城市管理局", "320800").body == "城市管理局"


def test_published_names_hold_no_markup_nor_year(tmp_path):
    """A text dump's markdown title (# …) and a title with its year in Chinese numerals."""
    docs = {
        "hash.txt": values("沐阳县人民政府", 2024, [OWN[0]], title="# 沐阳县人民政府2024年政府信息公开工作年度报告"),
        "cn.docx": values(
            "经开区白杨镇人民政府", 2021, [OWN[1]], title="经开区白杨镇人民政府二〇二一年政府信息公开工作年度报告"
        ),
    }
    reports = ingest(tmp_path / "wh", tmp_path / "d", docs, {"hash.txt": "321322", "cn.docx": "990400"})
    assert sorted(reports.select("agency", "year").rows()) == [("沐阳县人民政府", 2024), ("经开区白杨镇人民政府", 2021)]


# ------------------------------------------------------------------ 3. dates in Chinese numerals


def test_a_late_signature_in_chinese_numerals(tmp_path):
    docs = {
        "late.docx": values("盱眙县甲镇人民政府", 2024, [OWN[0]], signed="二〇二五年二月二十八日"),
        "late.txt": values("盱眙县乙镇人民政府", 2024, [OWN[1]], signed="二○二五年三月一日"),
        "on_time.html": values("盱眙县丙镇人民政府", 2024, [OWN[2]], signed="二〇二五年一月三十一日"),
    }
    root = tmp_path / "wh"
    reports = ingest(root, tmp_path / "d", docs)
    assert warnings(root, "metadata.late") == {
        ("late.docx", "on or before 2025-01-31", "2025-02-28"),
        ("late.txt", "on or before 2025-01-31", "2025-03-01"),
    }
    assert sorted(str(d) for d in reports["published_on"]) == ["2025-01-31", "2025-02-28", "2025-03-01"]


# ------------------------------------------------------------------ 4. edited copies


def test_copies_with_light_and_heavy_edits_are_found_and_shared_boilerplate_is_not(tmp_path):
    """Sections 一 and 五 copied from the year before with 1% and 5% of the characters changed;
    a control writes anew and shares only the boilerplate that every agency prints."""
    rng = random.Random(3)
    agencies = {
        "light": "盱眙县甲镇人民政府",
        "heavy": "盱眙县乙镇人民政府",
        "fresh": "盱眙县丙镇人民政府",
        "other": "盱眙县丁镇人民政府",
    }
    docs = {}
    for key, agency in agencies.items():
        before = [years.sentence(rng, 16) for _ in range(4)]
        after = {
            "light": [years.edit(t, 0.01, rng) for t in before],
            "heavy": [years.edit(t, 0.05, rng) for t in before],
        }.get(key) or [years.sentence(rng, 16) for _ in range(4)]
        for year, own in ((2023, before), (2024, after)):
            docs[f"{key}-{year}.{'docx' if key == 'light' else 'html' if key == 'heavy' else 'txt'}"] = years.Values(
                agency,
                year,
                overview=[years.BOILERPLATE[0].format(year=year), "（一）主动公开", *own[:3]],
                problems=[own[3], years.BOILERPLATE[1]],
            )
    root = tmp_path / "wh"
    ingest(root, tmp_path / "d", docs)
    found = {name: observed for name, _, observed in warnings(root, "narrative.copied")}
    assert sorted(found) == ["heavy-2024.html", "light-2024.docx"]
    assert found == {"light-2024.docx": "85% (28 of 33 passages)", "heavy-2024.html": "68% (21 of 31 passages)"}


# ------------------------------------------------------------------ 6. object storage


def test_the_checks_across_years_give_the_same_findings_on_a_bucket(tmp_path, s3):
    rng = random.Random(5)
    own = [years.sentence(rng, 16) for _ in range(4)]
    docs = {
        "a-2023.txt": years.Values("盱眙县甲镇人民政府", 2023, carried_forward=2, overview=own[:3], problems=own[3:]),
        "a-2024.docx": years.Values(
            "甲镇人民政府", 2024, carried_over=3, in_force=(4, 21), overview=own[:3], problems=own[3:]
        ),
        "b-2023.html": years.Values("盱眙县乙镇人民政府", 2023, overview=[OWN[0]]),
        "b-2024.txt": years.Values("乙镇", 2024, carried_over=1, in_force=(4, 30), overview=[OWN[1]]),
    }
    regions = dict.fromkeys(docs, "320830")
    found = {}
    for where in (tmp_path / "wh", s3 + "/wh"):
        ingest(where, tmp_path / "d", docs, regions)
        found[str(where)] = {rule: warnings(where, rule) for rule in years.RULES}
    folder, bucket = found.values()
    assert folder == bucket
    assert folder["cross_year.carried_over"] == {("a-2024.docx", "2", "3")}  # natural persons and total
    assert folder["cross_year.in_force"] == {("b-2024.txt", "20", "29")}  # 30 - 2 issued + 1 repealed
    assert {name for name, _, _ in folder["narrative.copied"]} == {"a-2024.docx"}
    agencies = pl.from_arrow(storage.path(s3 + "/wh/agencies/agencies.parquet").read_table())
    assert sorted(agencies["name"].to_list()) == ["乙镇", "甲镇人民政府"]


# ------------------------------------------------------------------ the corpus


def test_every_injected_warning_is_found_and_no_control_is_flagged(tmp_path):
    manifest, docs = years.generate(tmp_path / "docs")
    frames = pipeline.process_batch(sources([str(manifest)]), "r", processes=False)
    root = tmp_path / "wh"
    publish.publish(root, frames)
    across.check(root, frames["reports"]["report_id"].to_list(), "r")
    want_warnings, want_links = years.expected(docs)
    got_warnings, got_links, reports = years.found(root)
    assert reports["status"].to_list() == ["valid"] * len(docs)
    assert got_warnings == want_warnings
    assert got_links == want_links
    assert len(want_warnings) == 15 and len(want_links) == 24
