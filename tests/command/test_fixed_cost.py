"""A run's fixed cost (issue 26): what a process imports before it needs it. Checked in a fresh
interpreter, by the modules it ends up holding (no timing: `make bench` measures)."""

import json
import os
import subprocess
import sys

import pytest
from conftest import ROOT


def _modules_after(code: str, names: list[str]) -> dict[str, bool]:
    return _probe(code, names)[1]


def _probe(code: str, names: list[str], **env: str) -> tuple[list[str], dict[str, bool]]:
    """What `code` printed in a fresh interpreter, and which of `names` it had imported by its end."""
    probe = f"{code}\nimport json, sys\nprint(json.dumps({{n: n in sys.modules for n in {names!r}}}))"
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=ROOT, env={**os.environ, **env}
    ).stdout
    *printed, loaded = out.strip().splitlines()
    return printed, json.loads(loaded)


# That the command's process loads no parser before a document needs it (a text dump's run, whose
# workers extract) is checked by the run of the command as a program in tests/run/test_native.py, in
# its own fresh interpreter: what it holds as it exits.


def test_a_format_loads_its_parser_at_its_first_document():
    loaded = _modules_after(
        "from nianbao.extract import extract\nfrom nianbao.model.errors import Unreadable\n"
        "try:\n    extract(b'<html><body><p>x</p></body></html>', 'html')\nexcept Unreadable:\n    pass",
        ["nianbao.extract.html", "pdfplumber"],
    )
    assert loaded == {"nianbao.extract.html": True, "pdfplumber": False}


def test_the_extraction_workers_still_start_with_every_parser():
    from nianbao.run import isolate

    assert {"nianbao.extract.pdf", "nianbao.extract.office", "nianbao.extract.html"} <= set(isolate.PRELOAD)


# Pydantic v1's fields of every GX model class, described and hashed (an object's address differs
# by run), once GX is made: the number of classes, of fields, and the hash.
_FIELDS = """
import hashlib, re
from pydantic.v1 import BaseModel

def every(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from every(sub)

def described(f):
    return (repr(f), repr(f.field_info), f.shape, sorted(f.class_validators), len(f.validators or ()),
            len(f.pre_validators or ()), len(f.post_validators or ()), [described(s) for s in f.sub_fields or ()])

models = {f"{c.__module__}.{c.__qualname__}": {n: described(f) for n, f in c.__fields__.items()} for c in every(BaseModel)}
text = re.sub(r" at 0x[0-9a-f]+", "", repr(sorted(models.items())))
print(len(models), sum(map(len, models.values())), hashlib.sha256(text.encode()).hexdigest())
"""

# The three tests of GX as it is made, in one interpreter (GX's import costs seconds): what each
# finds loaded is looked at before anything more is imported, and its models' fields before GX's
# expectations and integrations are used.
_GX_MADE = f"""
import sys
from nianbao.check import validate
validate._gx()
before = {{n: type(sys.modules.get(n)).__name__ for n in ("scipy.stats", "altair")}}
loaded = [n in sys.modules for n in ("sqlalchemy", "botocore", "shapely")]
{_FIELDS}
from great_expectations.expectations.core import expect_column_kl_divergence_to_be_less_than as kl
entropy = round(float(kl.stats.entropy([0.5, 0.5], [0.9, 0.1])), 6)
print(before, entropy, type(sys.modules["scipy.stats"]).__name__)
import sqlalchemy, botocore.client, shapely.geometry
from great_expectations import util
from great_expectations.compatibility import aws, sqlalchemy as gx_sql
print(loaded, sqlalchemy.__name__, botocore.client.__name__, shapely.geometry.Point(1, 2).x, util.Point,
      type(gx_sql.sqlalchemy).__name__, type(aws.botocore).__name__)
"""


@pytest.fixture(scope="module")
def gx_made():
    return _probe(_GX_MADE, ["scipy.stats._stats_py", "altair.vegalite"], PYTHONHASHSEED="0")


def test_gx_is_made_without_what_its_import_never_runs_and_still_judges(gx_made):
    """scipy.stats and altair (GX's KL-divergence expectation, its charts) stay unimported while
    our suites run; a deferred module still imports at its first use, whole."""
    printed, loaded = gx_made
    assert loaded == {"scipy.stats._stats_py": True, "altair.vegalite": False}  # used: loaded; unused: not
    assert printed[-2] == "{'scipy.stats': '_Deferred', 'altair': '_Deferred'} 0.510826 module"


def test_gx_is_made_without_its_sql_and_aws_integrations_which_the_rest_still_imports(gx_made):
    """GX's optional SQLAlchemy, S3 and geometry integrations (installed for Prefect's server, s3fs,
    the OCR) are absent to GX, as without them; to any other importer, in the same process, they are there."""
    printed, _ = gx_made
    assert printed[-1] == "[False, False, False] sqlalchemy botocore.client 1.0 None NotImported NotImported"


def _extract_in_daemon(answer):
    from nianbao.interpret.reading import extract_and_match
    from nianbao.run import isolate

    try:
        isolate.run(extract_and_match, [(b"%PDF-1.4", "pdf")])
        answer.put("ran")
    except RuntimeError as e:
        answer.put(str(e))


def test_a_daemonic_worker_is_told_how_to_run_extraction():
    """A Dask worker is daemonic by default, and a daemon cannot start the extraction workers: the
    batch says how to start Dask's workers (issue 26, item 4), not multiprocessing's assertion."""
    import multiprocessing

    ctx = multiprocessing.get_context("spawn")
    answer = ctx.Queue()
    daemon = ctx.Process(target=_extract_in_daemon, args=(answer,), daemon=True)
    daemon.start()
    said = answer.get(timeout=300)
    daemon.join(timeout=60)
    assert said == (
        "a daemonic process cannot start extraction workers: run Dask's workers not daemonic "
        "(DASK_CONFIG=dask.yaml, or DASK_DISTRIBUTED__WORKER__DAEMON=False)"
    )


HEAVY = ["polars", "pyarrow", "pandas", "pydantic", "httpx", "prefect", "great_expectations", "lxml", "jinja2"]


def test_version_help_and_a_usage_error_import_nothing_heavy():
    """`nianbao --version`, `--help` and a usage error answer without importing what a run needs
    (issue 26, item 2: ~1 CPU-s each before)."""
    argvs = [["--version"], ["ingest", "--help"], ["--help"], ["ingest", "--workers", "0", "x.txt"]]
    # all four in one interpreter: none imported anything heavy if, after them all, nothing heavy is loaded
    each = "".join(f"\ncode = command._main({argv!r})" for argv in argvs)
    loaded = _modules_after(f"from flows import command{each}", HEAVY)
    assert loaded == dict.fromkeys(HEAVY, False)


def test_a_subcommand_still_gets_its_own_options():
    """The subcommands whose options come from their modules (discover, site) still parse them, and
    --year, whose range comes from the template, is still checked."""
    from flows import command as cli

    assert cli._parser(["site", "wh", "--out", "s"]).parse_args(["site", "wh", "--out", "s"]).out == "s"
    assert cli._main(["ingest", "x.txt", "--year", "1999"]) == 2
    assert cli._parser(["ingest"]).parse_args(["ingest", "x.txt", "--year", "2023"]).year == 2023


def test_the_plan_resolves_sources_without_the_pipeline():
    """The command resolves its sources (and finds a usage error) with the plan before it starts
    Prefect's temporary server, which then starts ~0.7 CPU-s earlier: resolving imports no polars."""
    loaded = _modules_after(
        "from nianbao.run.plan import Plan\nPlan.of(['data/samples/sample_valid_2023.txt'])",
        ["nianbao.run.pipeline", "polars", "pyarrow"],
    )
    assert loaded == {"nianbao.run.pipeline": False, "polars": False, "pyarrow": False}


def test_gxs_model_fields_are_the_same_copied_the_cheaper_way(gx_made):
    """Pydantic v1's fields of every GX model class, copied from their bases slot by slot (typing's
    aliases shared) as GX's classes are defined (gx_made's interpreter), are those its generic deep
    copy made (a fresh interpreter of its own)."""
    generic = subprocess.run(
        [
            sys.executable,
            "-c",
            "from nianbao.check import validate\n"
            "validate._cheaper_field_copies = lambda: None\nvalidate._gx()\n" + _FIELDS,
        ],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONHASHSEED": "0"},  # a set's order alike in both
    ).stdout.split()
    cheaper = gx_made[0][-3].split()
    assert cheaper == generic and int(cheaper[0]) > 300 and int(cheaper[1]) > 2000


def test_a_field_copied_the_cheaper_way_shares_nothing_mutable():
    from pydantic.v1 import BaseModel, Field, validator

    from nianbao.check import validate

    validate._cheaper_field_copies()

    class Base(BaseModel):
        tags: list[int] | None = Field(default_factory=list, description="d", extra_key={"a": [1]})

        @validator("tags")
        def positive(cls, v):
            return v

    class Child(Base):
        more: str = "x"

    base, child = Base.__fields__["tags"], Child.__fields__["tags"]
    assert child is not base and child.field_info is not base.field_info
    assert child.field_info.extra == base.field_info.extra and child.field_info.extra is not base.field_info.extra
    assert child.class_validators.keys() == {"positive"} and child.class_validators is not base.class_validators
    assert child.outer_type_ == base.outer_type_ and Child(tags=[1]).tags == [1]


def test_the_commands_parameters_are_serialised_as_prefect_does_without_fastapi(tmp_path):
    from pathlib import Path

    from flows import command
    from flows.ingest import ingest
    from nianbao.run.plan import Plan

    ours = command._parameters_without_fastapi(ingest.with_options())
    plan = Plan.of([str(ROOT / "data" / "samples")])
    for parameters in (
        {"sources": plan, "out": str(tmp_path), "year": None, "batch_size": 8, "reprocess": False},
        {"sources": plan, "out": Path(tmp_path), "year": 2023},  # not a command's: Prefect's own way
    ):
        assert ours.serialize_parameters(parameters) == ingest.serialize_parameters(parameters)
    assert len(ours.serialize_parameters({"sources": plan})["sources"]["documents"]) == len(plan.documents) == 3


# That a run of the command imports no FastAPI is checked by the same run of the command as a program
# in tests/run/test_native.py.
