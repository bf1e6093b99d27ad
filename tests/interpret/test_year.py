"""The report's year from, in order: the manifest, the title (in the body or the page's <title>), the
reporting period sentence, the file name or URL, the signing date."""

from pathlib import Path

import corpus
import lxml.html
import pytest
from lxml.builder import E

from nianbao.acquire.sources import resolve
from nianbao.interpret.metadata import read
from nianbao.run.pipeline import process_batch

PERIOD = "本报告中所列数据统计期限为2025年1月1日至12月31日。"
SIGNED = ["某某县人民政府", "2026年1月20日"]


@pytest.mark.parametrize(
    "paragraphs, page_title, source, year",
    [
        (["某县2024年政府信息公开工作年度报告", PERIOD, *SIGNED], "2023年报告", "2022年.txt", 2024),  # the title first
        (["一、总体情况", PERIOD, *SIGNED], "某县2023年政府信息公开工作年度报告_某县人民政府", "2022年.txt", 2023),
        (["一、总体情况", PERIOD, *SIGNED], "某县人民政府门户网站", "2022年.txt", 2025),  # a <title> naming no report
        (["一、总体情况", "统计时间为2021年1月1日至2021年12月31日。", *SIGNED], None, None, 2021),
        (
            ["一、总体情况", *SIGNED],
            None,
            "https://x.gov.cn/art/2026/1/15/%E6%B2%AD%E9%98%B3%E5%8E%BF2022%E5%B9%B4%E5%B9%B4%E6%8A%A5.html",
            2022,
        ),
        (
            ["一、总体情况", *SIGNED],
            None,
            "https://x.gov.cn/art/2026/1/15/art_1.html",
            2025,
        ),  # a date in a URL is no year
        (["一、总体情况", *SIGNED], None, "/data/2019年/沭阳县2020年度政府信息公开工作年度报告.pdf", 2020),
    ],
)
def test_the_year_in_order(paragraphs, page_title, source, year):
    assert read(paragraphs, page_title, source).year == year


def cms_page() -> bytes:
    """A CMS article page: the report's title only in <title> and the site's chrome, the year
    otherwise only in the reporting period sentence."""
    blocks = corpus.layout(corpus.report())[1:]  # no title in the body
    body = corpus.write_html(blocks)
    doc = lxml.html.document_fromstring(body)
    doc.find("head/title").text = "沭阳县人民政府2025年政府信息公开工作年度报告_沭阳县人民政府"
    content = doc.find("body")
    content.insert(0, E.p(PERIOD))
    content.insert(0, E.div(E.span("发布时间：2026-01-20"), E.span("来源：沭阳县人民政府办公室"), {"class": "info"}))
    return lxml.html.tostring(doc, encoding="utf-8", doctype="<!DOCTYPE html>")


def test_a_page_whose_year_is_in_its_title_element_and_period_sentence(tmp_path):
    page = tmp_path / "art_2026_1234.html"
    page.write_bytes(cms_page())
    frames = process_batch(resolve([str(page)]), "r", processes=False)
    (row,) = frames["reports"].to_dicts()
    assert row["year"] == 2025
    assert "metadata.year" not in frames["findings"]["rule_id"].to_list()
    # its period sentence alone tells it too
    page.write_bytes(cms_page().replace("2025年政府信息公开".encode(), "政府信息公开".encode()))
    frames = process_batch(resolve([str(page)]), "r", processes=False)
    assert frames["reports"]["year"].to_list() == [2025]


def test_the_file_name_tells_the_year_where_the_document_does_not(tmp_path):
    text = (Path(__file__).resolve().parents[2] / "data/samples/sample_valid_2023.txt").read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if "2023" not in line and "2024年" not in line]  # no date either
    page = tmp_path / "示例县青山镇2023年政府信息公开工作年度报告.txt"
    page.write_text("\n".join(lines), encoding="utf-8")
    frames = process_batch(resolve([str(page)]), "r", processes=False)
    assert frames["reports"]["year"].to_list() == [2023]
