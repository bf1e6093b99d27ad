"""The stage after the indicators, in the yearly deployment: the static site (nianbao/report/site/),
rebuilt whole from the warehouse, and a link to it among the run's artifacts."""

from __future__ import annotations

from prefect import get_run_logger, task
from prefect.artifacts import create_link_artifact

from nianbao.report import site


@task(name="build-site")
def build_site(out: str, site_out: str | None = None) -> str:
    """Write the site of the warehouse `out` into `site_out` (default: beside it; on a bucket built
    locally and copied up: nianbao.report.site.build_at). Returns where its index page is."""
    built, target, index = site.build_at(out, site_out)
    get_run_logger().info(
        "site: %d pages (%d regions, %d agencies) in %s", built.pages, built.regions, built.agencies, target
    )
    create_link_artifact(
        key="site",
        link=index,
        link_text="the indicators and peers, offline (index.html)",
        description=f"The static site of the warehouse: {built.pages} pages, written to {target}; "
        "open index.html from that folder (it loads nothing from elsewhere).",
    )
    return index
