"""Downstream readers (issue 25 item 11): every dataset of a warehouse made by a real run (the command,
its Prefect flow) over the samples and a seed whose year is unknown, read by pandas, polars, pyarrow
and DuckDB as their defaults read it, and as the README reads it. The unknown year's folder is
`year=0` (nianbao/model/schema.py UNKNOWN_YEAR): every default read then works and infers `year` an
integer, 0 for the unknown year; nianbao's scan() reads it as null (int16)."""

import shutil

import duckdb
import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.dataset as ds
import pytest
from conftest import ROOT, seed

from flows import command as cli
from nianbao import warehouse
from nianbao.model.schema import DATASETS, DERIVED
from nianbao.warehouse import compact

# every dataset a run writes (indicators_previous only once a definition changes its version)
PARTITIONED = [
    *DATASETS,
    *(d for d in DERIVED if d != "indicators_previous"),
    *(f"quarantine/{d}" for d in ("active_disclosure", "applications", "reviews_litigation", "narratives")),
]
FLAT = ["dictionary", "agencies"]
UNKNOWN = ["reports", "findings", "quality", *(d for d in PARTITIONED if d.startswith("quarantine/"))]


@pytest.fixture(scope="module")
def wh(prefect_harness, tmp_path_factory):
    root = tmp_path_factory.mktemp("readers") / "wh"
    assert cli.main(["ingest", str(ROOT / "data" / "samples"), str(seed("000")), "--out", str(root), "--quiet"]) == 1
    folders = {str(p.relative_to(root)) for p in root.glob("**/*.parquet")}
    assert {f.split("/year=")[0] for f in folders} >= {
        *PARTITIONED,
        "dictionary/dictionary.parquet",
        "agencies/agencies.parquet",
    }
    return root


def test_the_unknown_year_is_the_folder_year_0(wh):
    """Reports of unknown year (seed 000: invalid, its cells in quarantine; not_a_report.txt:
    unreadable) are in `year=0`, beside other years, in every dataset that holds them."""
    assert {d for d in PARTITIONED if (wh / d / "year=0").is_dir()} == set(UNKNOWN)
    assert all(len(list((wh / d).glob("year=*"))) > 1 for d in UNKNOWN)
    assert not list(wh.glob("**/year=__HIVE_DEFAULT_PARTITION__"))


def _want(wh, name: str) -> list:
    """(report_id, year) of every row as nianbao's scan() reads them, the unknown year (null there)
    as a plain read of the folder `year=0` reads it: 0."""
    frame = warehouse.scan(name.removeprefix("quarantine/"), wh, name.startswith("quarantine/")).collect()
    return sorted((r, 0 if y is None else y) for r, y in frame.select("report_id", "year").iter_rows())


def _rows(frame: pl.DataFrame) -> list:
    return sorted(frame.select("report_id", "year").iter_rows())


@pytest.mark.parametrize("name", PARTITIONED)
def test_pandas_default_read(wh, name):
    """`pd.read_parquet(folder)`: pyarrow makes a Hive partition a category; beside other years,
    `year=__HIVE_DEFAULT_PARTITION__` failed it ("Cannot yet unify dictionaries with nulls")."""
    frame = pd.read_parquet(wh / name)
    assert isinstance(frame["year"].dtype, pd.CategoricalDtype) and frame["year"].cat.categories.dtype == "int32"
    assert sorted(zip(frame["report_id"], frame["year"].astype(int))) == _want(wh, name)


@pytest.mark.parametrize("name", PARTITIONED)
def test_polars_default_reads(wh, name):
    want = _want(wh, name)
    for frame in (
        pl.read_parquet(wh / name),  # a folder: polars reads its Hive partitions
        pl.scan_parquet(wh / name, hive_partitioning=True).collect(),
        pl.read_parquet(f"{wh / name}/**/*.parquet", hive_partitioning=True),
    ):
        assert frame.schema["year"] == pl.Int64 and _rows(frame) == want
    glob = pl.read_parquet(f"{wh / name}/**/*.parquet")  # a glob: polars reads no partition unless asked
    assert "year" not in glob.columns and sorted(glob["report_id"]) == [r for r, _ in want]


@pytest.mark.parametrize("name", PARTITIONED)
def test_duckdb_default_read(wh, name):
    want = _want(wh, name)
    for sql in (
        f"select report_id, year from read_parquet('{wh / name}/**/*.parquet', hive_partitioning=true)",
        f"select report_id, year from '{wh / name}/*/*.parquet'",
    ):  # Hive partitions found by default
        rel = duckdb.sql(sql)
        assert rel.types[1] == "BIGINT" and sorted(rel.fetchall()) == want


@pytest.mark.parametrize("name", PARTITIONED)
def test_pyarrow_dataset_default_read(wh, name):
    want = _want(wh, name)
    table = ds.dataset(wh / name, partitioning="hive").to_table()
    assert table.schema.field("year").type == pa.int32() and _rows(pl.from_arrow(table)) == want
    plain = ds.dataset(wh / name).to_table()  # no partitioning asked: the files' columns only
    assert "year" not in plain.column_names and sorted(plain["report_id"].to_pylist()) == [r for r, _ in want]


@pytest.mark.parametrize("name", PARTITIONED)
def test_declared_reads_give_int16(wh, name):
    """Naming the partition's type gives the contract's int16 in each reader; scan() also turns the
    unknown year into null."""
    want = _want(wh, name)
    part = ds.partitioning(pa.schema([("year", pa.int16())]), flavor="hive")
    frame = pd.read_parquet(wh / name, partitioning=part, dtype_backend="pyarrow")
    assert str(frame["year"].dtype) == "int16[pyarrow]" and sorted(zip(frame["report_id"], frame["year"])) == want
    got = pl.read_parquet(wh / name, hive_schema={"year": pl.Int16})
    assert got.schema["year"] == pl.Int16 and _rows(got) == want
    rel = duckdb.sql(
        f"select report_id, year from read_parquet('{wh / name}/**/*.parquet', hive_types={{'year': SMALLINT}})"
    )
    assert rel.types[1] == "SMALLINT" and sorted(rel.fetchall()) == want
    scanned = warehouse.scan(name.removeprefix("quarantine/"), wh, name.startswith("quarantine/")).collect()
    assert scanned.schema["year"] == pl.Int16
    assert scanned["year"].null_count() == sum(y == 0 for _, y in want) and (0 in scanned["year"]) is False
    assert (scanned["year"].null_count() > 0) == (name in UNKNOWN)
    assert _rows(scanned.with_columns(pl.col("year").fill_null(0))) == want


@pytest.mark.parametrize("name", FLAT)
def test_the_unpartitioned_datasets_read_as_is(wh, name):
    path = wh / name
    n = pl.read_parquet(path).height
    assert n and pd.read_parquet(path).shape[0] == n == ds.dataset(path).count_rows()
    assert duckdb.sql(f"select count(*) from read_parquet('{path}/*.parquet')").fetchall() == [(n,)]


def test_an_older_warehouses_unknown_year_is_read_then_moved(wh, tmp_path):
    """A warehouse an older nianbao wrote has `year=__HIVE_DEFAULT_PARTITION__`: scan() reads it as
    null; the next writer to take the lock (here `nianbao compact`) moves it to `year=0`, and every
    dataset then holds the same rows as the run's, pandas' default read included."""
    older = tmp_path / "wh"
    shutil.copytree(wh, older)
    for folder in list(older.glob("**/year=0")):
        folder.rename(folder.with_name("year=__HIVE_DEFAULT_PARTITION__"))
    for name in PARTITIONED:
        assert _want(older, name) == _want(wh, name)
    with pytest.raises(pa.ArrowInvalid, match="Cannot yet unify dictionaries with nulls"):
        pd.read_parquet(older / "reports")
    assert compact.compact(older) == []  # nothing to merge: it only took the lock
    assert not list(older.glob("**/year=__HIVE_DEFAULT_PARTITION__"))
    assert sorted(p.relative_to(older) for p in older.glob("**/year=0/*")) == sorted(
        p.relative_to(wh) for p in wh.glob("**/year=0/*")
    )
    for name in PARTITIONED:
        assert _want(older, name) == _want(wh, name)
        assert sorted(zip(*(pd.read_parquet(older / name)[c].astype(object) for c in ("report_id", "year")))) == _want(
            wh, name
        )
