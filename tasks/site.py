"""The stage after the indicators, in the yearly deployment: the static site (nianbao/report/site/),
rebuilt whole from the warehouse, and a link to it among the run's artifacts."""
from __future__ import annotations

import tempfile
from pathlib import Path

from prefect import get_run_logger, task
from prefect.artifacts import create_link_artifact

from nianbao.report import site
from nianbao.warehouse import storage


def beside(out: str) -> str:
    """The site's default place: a folder `site` beside the warehouse (data/warehouse -> data/site;
    s3://bucket/nianbao/warehouse -> s3://bucket/nianbao/site)."""
    if storage.is_remote(out):
        return str(storage.path(out.rstrip("/")).parent / "site")
    return str(Path(out).resolve().parent / "site")


@task(name="build-site")
def build_site(out: str, site_out: str | None = None) -> str:
    """Write the site of the warehouse `out` into `site_out` (default: beside it); on a bucket it is
    built in a local folder and copied up. Returns where its index page is."""
    target = site_out or beside(out)
    if storage.is_remote(target):
        with tempfile.TemporaryDirectory(prefix="nianbao-site-") as tmp:
            built = site.build(out, tmp)
            remote = storage.path(target)
            for page in sorted(Path(tmp).rglob("*.html")):
                (remote / page.relative_to(tmp).as_posix()).write_bytes(page.read_bytes())
        index = f"{target.rstrip('/')}/index.html"
    else:
        built = site.build(out, target)
        index = (Path(target).resolve() / "index.html").as_uri()
    get_run_logger().info("site: %d pages (%d regions, %d agencies) in %s", built.pages, built.regions,
                          built.agencies, target)
    create_link_artifact(key="site", link=index, link_text="the indicators and peers, offline (index.html)",
                         description=f"The static site of the warehouse: {built.pages} pages, written to {target}; "
                                     "open index.html from that folder (it loads nothing from elsewhere).")
    return index
