"""The command hands the flow what it resolved (nianbao/run/plan.py): each document is read and
hashed once in a run, and the flow takes either strings (a deployment) or a plan (the command)."""

import hashlib
import json
import pathlib
import pickle
import sys

import duckdb
from conftest import ROOT
from corpus import distinct_reports

from flows import command as cli


def _documents(folder: pathlib.Path) -> dict[str, bytes]:
    """Three PDFs (extracted in the worker processes, the first ones begun ahead by the command) and
    two text reports, all with distinct bytes."""
    sys.path.insert(0, str(ROOT / "tests" / "fixtures"))
    import make_pdf

    folder.mkdir()
    pdf = make_pdf.simple()
    for i, name in enumerate(["a0.pdf", "a1.pdf", "b2.pdf"]):
        (folder / name).write_bytes(pdf + f"\n%{i}\n".encode())
    distinct_reports(folder, 2)
    return {str(p): p.read_bytes() for p in sorted(folder.iterdir())}


def test_a_run_of_the_command_reads_and_hashes_each_document_once(prefect_harness, tmp_path, monkeypatch):
    docs = _documents(tmp_path / "docs")
    reads, hashes = [], []
    read_bytes, sha256 = pathlib.Path.read_bytes, hashlib.sha256

    def counted_read(self):
        if str(self) in docs:
            reads.append(str(self))
        return read_bytes(self)

    def counted_hash(data=b"", **kw):
        hashes.extend(uri for uri, b in docs.items() if isinstance(data, (bytes, bytearray)) and data == b)
        return sha256(data, **kw)

    monkeypatch.setattr(pathlib.Path, "read_bytes", counted_read)
    monkeypatch.setattr(hashlib, "sha256", counted_hash)
    code = cli.main(
        ["ingest", str(tmp_path / "docs"), "--out", str(tmp_path / "wh"), "--batch-size", "2", "--workers", "1"]
    )
    assert code == 1  # the PDFs hold no template tables: unreadable
    assert sorted(reads) == sorted(docs)  # each once: the first batch's by the command, the rest by the flow
    assert sorted(hashes) == sorted(docs)
    rows = duckdb.sql(
        f"select source_uri, status from read_parquet('{tmp_path}/wh/reports/*/*.parquet') order by 1"
    ).fetchall()
    assert rows == [(uri, "unreadable" if uri.endswith(".pdf") else "valid") for uri in sorted(docs)]


def test_the_flow_takes_a_plan_and_the_run_records_its_documents(prefect_harness, tmp_path):
    """A plan is a plain parameter: serialised to Prefect's API (where a run can be started again
    from it) and pickled without what only this process holds."""
    from fastapi.encoders import jsonable_encoder
    from prefect.client.orchestration import get_client

    from flows.ingest import ingest
    from nianbao.run.plan import Plan

    docs = distinct_reports(tmp_path / "docs", 3)
    plan = Plan.of([str(tmp_path / "docs")]).holding(published={}, progress=lambda: ticks.append(1))
    ticks: list[int] = []
    state = ingest(sources=plan, out=str(tmp_path / "wh"), batch_size=2, return_state=True)
    assert state.is_completed() and state.message == "3 reports: 3 valid, 0 invalid, 0 unreadable"
    assert len(ticks) == 3  # the command's progress bar, told per document
    with get_client(sync_client=True) as client:
        parameters = client.read_flow_run(state.state_details.flow_run_id).parameters
    assert parameters["sources"] == {
        "documents": [{"uri": str(d), "overrides": {}, "refused": None} for d in docs],
        "allow_private": None,
    }
    again = Plan.model_validate(json.loads(json.dumps(jsonable_encoder(plan))))
    assert again.documents == plan.documents and again.published is None and again.ahead == {}
    unpickled = pickle.loads(pickle.dumps(plan))
    assert unpickled.documents == plan.documents and unpickled.published is None and unpickled.progress is None
    state = ingest(sources=again, out=str(tmp_path / "wh"), return_state=True)
    assert state.message == "3 reports: 3 valid, 0 invalid, 0 unreadable (3 already published, skipped)"


def test_a_plan_too_big_for_prefects_api_is_its_sources(tmp_path):
    """A 20,000-row manifest of reports with Chinese names is 3 MB of parameters: Prefect's server
    refuses a flow run's past 512 KiB, and the run failed with exit 3. Its plan names the manifest
    instead, which a run started again from the parameters resolves to the same documents; a batch
    of it still lists its documents."""
    from fastapi.encoders import jsonable_encoder
    from prefect._internal.schemas.validators import validate_parameter_size
    from prefect.settings import PREFECT_SERVER_API_MAX_PARAMETER_SIZE

    from flows.ingest import ingest
    from nianbao.run.plan import Plan

    manifest = tmp_path / "manifest.csv"
    rows = [f"reports/广东省某某市某某区人民政府办公室{i:05d}年度报告.pdf,某某区{i:05d}\n" for i in range(20_000)]
    manifest.write_text("uri,agency\n" + "".join(rows), encoding="utf-8")
    plan = Plan.of([str(manifest)])
    assert len(plan.documents) == 20_000
    parameters = ingest.serialize_parameters({"sources": plan, "out": "wh"})  # as the flow run is created
    validate_parameter_size(parameters, PREFECT_SERVER_API_MAX_PARAMETER_SIZE.value())  # as the server checks it
    assert parameters["sources"] == {"sources": [str(manifest)], "allow_outside": None, "allow_private": None}
    # started again from them (Prefect validates the parameter as the flow takes it: list[str] | Plan)
    again = ingest.validate_parameters(json.loads(json.dumps(parameters)))["sources"]
    assert isinstance(again, Plan) and again.documents == plan.documents
    assert jsonable_encoder(again) == parameters["sources"]
    batch = plan.batches(100)[1]
    assert jsonable_encoder(batch)["documents"][0] == {
        "uri": str(tmp_path / "reports" / "广东省某某市某某区人民政府办公室00100年度报告.pdf"),
        "overrides": {"agency": "某某区00100"},
        "refused": None,
    }
    assert pickle.loads(pickle.dumps(batch)).documents == batch.documents
