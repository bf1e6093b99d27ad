"""Downstream readers (issue 25 item 11): every dataset of a warehouse made from the samples (the
unknown-year partition included) read by pandas, polars, pyarrow and DuckDB, as their defaults read
it and as the README reads it (`year` int16 in each)."""
import duckdb
import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.dataset as ds
import pytest

from conftest import ROOT
from nianbao import warehouse
from nianbao.warehouse import publish
from nianbao.run.pipeline import process_batch
from nianbao.model.schema import DATASETS
from nianbao.acquire.sources import resolve

PARTITIONED = [*DATASETS, *(f"quarantine/{d}" for d in ("active_disclosure", "applications", "reviews_litigation",
                                                         "narratives"))]
FLAT = ["dictionary"]  # agencies/ is written by the flow, not by a publish: the same kind of file


@pytest.fixture(scope="module")
def wh(tmp_path_factory):
    root = tmp_path_factory.mktemp("readers") / "wh"
    publish.publish(root, process_batch(resolve([str(ROOT / "data" / "samples")]), "readers"))
    assert (root / "reports" / "year=__HIVE_DEFAULT_PARTITION__").is_dir()
    return root


def _expected(wh, name: str) -> list:
    """(report_id, year) of every row, as nianbao's own scan() reads them."""
    quarantine = name.startswith("quarantine/")
    frame = warehouse.scan(name.removeprefix("quarantine/"), wh, quarantine).collect()
    return sorted(frame.select("report_id", "year").iter_rows(), key=str)


def _null_partition_beside_others(wh, name: str) -> bool:
    years = [p.name for p in (wh / name).iterdir() if p.name.startswith("year=")]
    return "year=__HIVE_DEFAULT_PARTITION__" in years and len(years) > 1


@pytest.mark.parametrize("name", PARTITIONED)
def test_default_reads_of_every_dataset(wh, name):
    """polars, pyarrow (hive) and DuckDB read every dataset as is, the unknown year as null."""
    want = _expected(wh, name)
    assert want, name
    got = pl.read_parquet(wh / name)  # a folder: polars reads its hive partitions
    assert sorted(got.select("report_id", "year").iter_rows(), key=str) == want
    got = pl.from_arrow(ds.dataset(wh / name, partitioning="hive").to_table())
    assert sorted(got.select("report_id", "year").iter_rows(), key=str) == want
    got = duckdb.sql(f"select report_id, year from read_parquet('{wh / name}/**/*.parquet')").fetchall()
    assert sorted(got, key=str) == want


@pytest.mark.parametrize("name", PARTITIONED)
def test_pandas_default_read(wh, name):
    """pandas' default read infers the partition as a dictionary, and the unknown-year partition as
    a dictionary holding a null, which pyarrow (26) cannot unify with the others' ("Cannot yet
    unify dictionaries with nulls"): the layout of the contract cannot be read so; the README's
    read names the partition's type."""
    if _null_partition_beside_others(wh, name):
        with pytest.raises(pa.ArrowInvalid, match="Cannot yet unify dictionaries with nulls"):
            pd.read_parquet(wh / name)
        return
    got = pd.read_parquet(wh / name)
    assert sorted(zip(got["report_id"], got["year"].astype("Int16").astype(object).where(got["year"].notna(), None)),
                  key=str) == _expected(wh, name)


@pytest.mark.parametrize("name", PARTITIONED)
def test_the_readmes_reads_give_one_type_for_year(wh, name):
    """As the README reads them, `year` is int16 in every reader, the unknown year null."""
    want = _expected(wh, name)
    part = ds.partitioning(pa.schema([("year", pa.int16())]), flavor="hive")
    frame = pd.read_parquet(wh / name, partitioning=part, dtype_backend="pyarrow")
    assert str(frame["year"].dtype) == "int16[pyarrow]"
    assert sorted(zip(frame["report_id"], frame["year"].astype(object).where(frame["year"].notna(), None)), key=str) == want
    got = pl.read_parquet(f"{wh / name}/**/*.parquet", hive_partitioning=True, hive_schema={"year": pl.Int16})
    assert got.schema["year"] == pl.Int16 and sorted(got.select("report_id", "year").iter_rows(), key=str) == want
    table = ds.dataset(wh / name, partitioning=part).to_table()
    assert table.schema.field("year").type == pa.int16()
    rel = duckdb.sql(f"select report_id, year from read_parquet('{wh / name}/**/*.parquet', hive_types={{'year': SMALLINT}})")
    assert rel.types[1] == "SMALLINT" and sorted(rel.fetchall(), key=str) == want


@pytest.mark.parametrize("name", FLAT)
def test_the_unpartitioned_datasets_read_as_is(wh, name):
    path = wh / name
    n = pl.read_parquet(path).height
    assert n and pd.read_parquet(path).shape[0] == n == ds.dataset(path).count_rows()
    assert duckdb.sql(f"select count(*) from read_parquet('{path}/*.parquet')").fetchall() == [(n,)]
