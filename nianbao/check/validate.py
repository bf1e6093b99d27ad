"""Run the rules' Great Expectations suites (expectations/*.json) over a batch and read back findings.

GX gets pandas frames (its polars support is absent) and runs each suite once per batch. Every
result's `exception_info` is checked: an expectation that raised is a broken suite, not bad data,
and stops the batch loudly instead of turning into findings.
"""

from __future__ import annotations

import copy
import copyreg
import importlib.abc
import importlib.util
import json
import logging
import sys
import threading
import types
import typing
import warnings
from pathlib import Path

import polars as pl

from nianbao.check import rules
from nianbao.model import settings
from nianbao.model.errors import SuiteError
from nianbao.model.findings import Finding
from nianbao.model.template import Rule, current_year, template

settings.quiet_libraries()
_lock = threading.Lock()  # one GX context per process; GX is not known to be thread-safe
_context = None
_warming = False
_deferring = threading.RLock()
# Imported by GX at its own import for expectations and renderers our suites never run (KL divergence,
# KS tests, charts): loaded at first use instead, a third of GX's import (~1.5 CPU-s here, measured).
DEFERRED = ("scipy.stats", "altair")
# GX's optional integrations (SQL, S3, geometry in its JSON), imported by its own import when installed,
# as they are here for others (Prefect's server, s3fs, the OCR): our suites run on pandas frames of
# numbers and text, so GX is shown them absent, as without them (~0.4 CPU-s of its import, measured);
# to any other importer they are there.
ABSENT_TO_GX = ("sqlalchemy", "boto3", "botocore", "shapely")


def suite_document(rule: Rule) -> dict:
    """The suite of one rule, as kept in expectations/<rule_id>.json."""
    return {
        "name": rule.id,
        "expectations": [
            dict(e, meta={"rule_id": rule.id, "severity": rule.severity}) for e in rules.expectations(rule)
        ],
        "meta": {
            "rule_id": rule.id,
            "severity": rule.severity,
            "description": rule.description,
            "generated_from": "nianbao/model/template.toml (python -m nianbao.check.validate writes this file)",
        },
    }


def write_suites(directory: Path | None = None) -> list[Path]:
    directory = directory or settings.settings().expectations
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for rule in template().rules:
        path = directory / f"{rule.id}.json"
        path.write_text(json.dumps(suite_document(rule), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        paths.append(path)
    return paths


def load_suite(rule_id: str) -> dict:
    path = settings.settings().expectations / f"{rule_id}.json"
    if not path.exists():
        raise SuiteError(f"{path} is missing: run `python -m nianbao.check.validate` to generate the suites")
    return json.loads(path.read_text(encoding="utf-8"))


class _Deferred(types.ModuleType):
    """Stands in sys.modules for a module not imported yet: imports it at the first attribute looked
    up. Dunders are not (a scan of sys.modules, as inspect.getmodule makes, leaves it unimported)."""

    def __getattr__(self, attr: str):
        if attr.startswith("__"):
            raise AttributeError(attr)
        with _deferring:
            if sys.modules.get(self.__name__) is self:
                del sys.modules[self.__name__]
                importlib.import_module(self.__name__)
        return getattr(sys.modules[self.__name__], attr)


def _defer(name: str) -> None:
    if name not in sys.modules and importlib.util.find_spec(name) is not None:
        sys.modules[name] = _Deferred(name)


class _AbsentToGX(importlib.abc.MetaPathFinder):
    """Tells an import of ABSENT_TO_GX made by a GX module that there is no such module."""

    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in ABSENT_TO_GX and _importer().startswith("great_expectations."):
            raise ModuleNotFoundError(f"No module named {name!r} (for GX: nianbao.check.validate)", name=name)
        return None


def _importer() -> str:
    """The module whose code is importing (the first frame outside the import machinery and this file)."""
    frame = sys._getframe(2)
    while frame is not None and (
        frame.f_code.co_filename.startswith("<frozen") or frame.f_code.co_filename == __file__
    ):
        frame = frame.f_back
    return frame.f_globals.get("__name__", "") if frame is not None else ""


# what deepcopy shares rather than copies
_ATOMIC = (type(None), bool, int, float, str, type, types.FunctionType, types.BuiltinFunctionType)
_ALIASES = (  # typing's aliases: immutable; deepcopy rebuilds them, and typing's cache mostly returns the same one
    typing._GenericAlias,
    typing._UnionGenericAlias,
    typing._LiteralGenericAlias,
    typing._AnnotatedAlias,
    typing._CallableGenericAlias,
    typing._SpecialGenericAlias,
    types.GenericAlias,
    types.UnionType,
)


def _slots_deepcopy(self, memo):
    """copy.deepcopy of an object of __slots__ (what its generic path does: a new object, memo first,
    each slot set deep-copied), without that path's reduce and dispatch for values deepcopy shares."""
    cls = type(self)
    if hasattr(self, "__dict__"):  # a subclass with attributes of its own: the generic path
        return copy._reconstruct(self, memo, *self.__reduce_ex__(4))
    new = object.__new__(cls)
    memo[id(self)] = new
    for name in copyreg._slotnames(cls):  # as the generic path lists them (cached on the class)
        try:
            value = getattr(self, name)
        except AttributeError:  # a slot not set is not copied
            continue
        setattr(new, name, value if type(value) in _ATOMIC else copy.deepcopy(value, memo))
    return new


def _alias_deepcopy(alias, memo):
    """A typing alias is its own deep copy when hashable (of immutable parts), as typing's cache gives it."""
    try:
        hash(alias)
    except TypeError:  # an unhashable part (Annotated's metadata): copied as deepcopy does
        return copy._reconstruct(alias, memo, *alias.__reduce_ex__(4))
    return alias


def _cheaper_field_copies() -> None:
    """Pydantic v1 deep-copies every base class's fields into each model class it defines: half of
    GX's import (its expectations and metrics are such classes, hundreds deep). The same copies,
    ~0.4 CPU-s cheaper (measured): its field objects copied slot by slot, typing's aliases shared."""
    from pydantic.v1 import class_validators, fields

    for cls in (fields.ModelField, fields.FieldInfo, class_validators.Validator):
        if "__deepcopy__" not in vars(cls) and "__dict__" not in dir(cls):
            cls.__deepcopy__ = _slots_deepcopy
    for alias in _ALIASES:
        copy._deepcopy_dispatch.setdefault(alias, _alias_deepcopy)


def _gx():
    """(gx, context, batch definition), made once; call it holding _lock."""
    global _context
    if "great_expectations" not in sys.modules:
        for name in DEFERRED:
            _defer(name)
        _cheaper_field_copies()
        if not any(isinstance(f, _AbsentToGX) for f in sys.meta_path):
            sys.meta_path.insert(0, _AbsentToGX())
        # GX's imports try urllib3's SOCKS support, which warns without PySocks: said on the console of
        # a run whose logging Prefect has set up by then (the warning is Prefect's py.warnings log)
        warnings.filterwarnings("ignore", message="SOCKS support in urllib3")
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig
    from great_expectations.expectations.expectation_configuration import ExpectationConfiguration  # noqa: F401

    if _context is None:
        for name in ("great_expectations", "great_expectations.data_context.types.base"):
            logging.getLogger(name).setLevel(logging.WARNING)
        ctx = gx.get_context(mode="ephemeral")
        ctx.variables.progress_bars = ProgressBarsConfig(globally=False)
        asset = ctx.data_sources.add_pandas("nianbao").add_dataframe_asset("checks")
        _context = (gx, ctx, asset.add_batch_definition_whole_dataframe("batch"))
    return _context


def warm() -> None:
    """Import GX and make its context in a thread, once per process, while documents are extracted
    (seconds of CPU the first batch's validation need not wait for)."""
    global _warming
    with _lock:
        if _context is not None or _warming:
            return
        _warming = True

    def make():
        with _lock:
            _gx()

    threading.Thread(target=make, name="nianbao-gx").start()  # not a daemon: never cut mid-import at exit


def run_suite(rule: Rule, frame: pl.DataFrame) -> list[tuple[str, Finding]]:
    """(report_id, finding) for the rows of `frame` that break `rule`, as judged by GX."""
    if frame.height == 0:
        return []
    doc = load_suite(rule.id)
    with _lock:  # GX imported only under it: imported by two threads at once, it breaks on its own cycles
        gx, ctx, batch_definition = _gx()
        from great_expectations.expectations.expectation_configuration import ExpectationConfiguration

        suite = gx.ExpectationSuite(
            name=rule.id,
            expectations=[
                ExpectationConfiguration(type=e["type"], kwargs=e["kwargs"]).to_domain_obj()
                for e in doc["expectations"]
            ],
        )
        # GX sees only the columns its expectations read (it hashes the whole frame it is given)
        used = [
            c for e in doc["expectations"] for k, c in e["kwargs"].items() if k in ("column", "column_A", "column_B")
        ]
        pdf = frame.select(list(dict.fromkeys(used))).to_pandas()
        batch = batch_definition.get_batch(batch_parameters={"dataframe": pdf})
        result = batch.validate(
            suite, result_format={"result_format": "COMPLETE"}, expectation_parameters={"current_year": current_year()}
        )
    bad: list[int] = []
    for r in result.results:
        info = r.exception_info or {}
        raised = (
            info.get("raised_exception")
            if "raised_exception" in info
            else any(v.get("raised_exception") for v in info.values() if isinstance(v, dict))
        )
        if raised:
            raise SuiteError(f"{rule.id}: {r.expectation_config.type} raised: {info}")
        if not r.success:
            bad.extend(r.result.get("unexpected_index_list") or [])
    rows = (frame.row(i, named=True) for i in sorted(set(bad)))
    return [
        (row["report_id"], Finding.of(rule.id, row["message"], list(row["cells"]), row["expected"], row["observed"]))
        for row in rows
    ]


def validate(cells: dict[str, pl.DataFrame], reports: pl.DataFrame) -> dict[str, list[Finding]]:
    """Every rule over a batch of readable reports: findings by report_id."""
    out: dict[str, list[Finding]] = {rid: [] for rid in reports["report_id"]}
    for rule in template().rules:
        if rule.stage == "across":
            continue  # over the warehouse after publishing: nianbao/check/across.py
        for report_id, finding in run_suite(rule, rules.check_frame(rule, cells, reports)):
            out[report_id].append(finding)
    return out


if __name__ == "__main__":
    for p in write_suites():
        print(p)
