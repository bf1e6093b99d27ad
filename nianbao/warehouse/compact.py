"""`nianbao compact WAREHOUSE [--year Y]`: a partition's many small files merged into one per dataset.

A year ingested in 1,500 batches is 1,500 files per dataset; readers pay per file. Compacting a
partition merges all its batch files (and an earlier compacted file) into one
`compacted-<ids>.parquet` per dataset and quarantine, rows unchanged. It holds the warehouse's lock
(or lease) like a publish, so an ingest's next batch waits for it, and it for that batch.

Readers never see a report twice or not at all: each merged file names the files it replaces, with
their identities, in its footer (index.CLAIM), and `warehouse.files()` / `scan()` leave those out
from the moment it lands; they are deleted right after (on S3 their versions stay readable for the
grace, like any superseded version). Killed half way, the next publish or compaction finishes it.
On S3 it marks the change like a publish (index.writing, index.settled).
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pyarrow as pa

from nianbao.model.errors import RunError
from nianbao.model.schema import PARTITION, schema
from nianbao.model.words import plural
from nianbao.warehouse import index, publish, storage


def compact(warehouse: str | Path, year: int | None = None) -> list[dict]:
    """Compact every partition (or `year`'s) that has more than one batch file. Returns per
    partition: its name, reports, and files before and after."""
    root = storage.path(warehouse)
    done = []
    with publish.locked(root):
        held = index.load(root)
        files_at = held.by_location
        partitions: dict[str, list[index.Location]] = {}
        for loc in files_at:  # batch files and earlier compactions; across.parquet is the checks' own
            if loc[1].startswith(("part-", index.COMPACTED)) and (year is None or loc[0] == f"{PARTITION}={year}"):
                partitions.setdefault(loc[0], []).append(loc)
        for partition, locs in sorted(partitions.items()):
            if len(locs) < 2:
                continue
            if not done:
                index.writing(root)
            ids = set().union(*(held.ids_at(loc) for loc in locs))
            old = {rel: ident for loc in locs for rel, ident in files_at[loc].items()}
            # named after what it merges (files and versions): never the name of one of them
            name = (
                f"{index.COMPACTED}{hashlib.sha256(json.dumps(old, sort_keys=True).encode()).hexdigest()[:16]}.parquet"
            )
            files = _merge(root, partition, name, old, held.files)
            held = held.after(files, ids, {(partition, name): ids})
            table, written = _write_index(root, held)
            done.append(
                {
                    "partition": partition,
                    "reports": len(ids),
                    "files_before": len(old),
                    "files_after": sum(index.location(r) == (partition, name) for r in files),
                }
            )
        if storage.is_remote(root) and done:
            retired = []
            root.sweep(["quarantine", "_index", *{r.split("/", 1)[0] for r in held.files}], retired=retired)
            index.settled(root, written, held.files, table, retired)
        elif done:
            index.settled(root, None, held.files, table)
    return done


def _merge(root, partition: str, name: str, old: dict[str, str], listed: dict[str, str]) -> dict[str, str]:
    """One file per dataset (and quarantine) of `old`'s files, written, then `old` deleted.
    Returns the listing after."""
    bases: dict[str, dict[str, str]] = {}
    for rel, ident in old.items():
        bases.setdefault(rel.rsplit("/", 2)[0], {})[rel] = ident
    files = {r: i for r, i in listed.items() if r not in old}
    # `reports` last, as in a publish
    for base, parts in sorted(bases.items(), key=lambda kv: (kv[0] == "reports", kv[0])):
        dataset = base.rsplit("/", 1)[-1]
        file_schema = schema(dataset, with_partition=False)
        table = pa.concat_tables(
            [index.read_file(root, rel, ident, schema=file_schema) for rel, ident in parts.items()]
        )
        table = table.sort_by([(k, "ascending") for k in publish._sort_keys(dataset)])
        table = table.replace_schema_metadata({index.CLAIM: json.dumps(parts, sort_keys=True).encode()})
        path = root / base / partition / name
        if storage.is_remote(root):
            files[f"{base}/{partition}/{name}"] = path.write_table(table, compression="zstd").key
        else:
            tmp = publish._write_temporary(table, path)
            files[f"{base}/{partition}/{name}"] = index.identity(root, tmp)
            os.replace(tmp, path)
    for rel in old:  # what they replaced: readers through files() no longer see these
        (root / rel).unlink(missing_ok=True)
    return files


def _write_index(root, held: index.Index) -> tuple[pa.Table, storage.S3Path | None]:
    """The index written; returns it, and on S3 its object."""
    table = held.table()
    if storage.is_remote(root):
        return table, (root / index.INDEX).write_table(table, **index.WRITTEN)
    publish.write_atomic(table, root / index.INDEX, **index.WRITTEN)
    return table, None


def run(args) -> int:
    """The command's `compact`: exit 0 done, 2 no such warehouse, 3 it could not be written."""
    import sys

    if not storage.is_remote(args.warehouse) and not Path(args.warehouse).is_dir():
        print(f"nianbao: {args.warehouse} is not a warehouse folder", file=sys.stderr)
        return 2
    root = storage.path(args.warehouse)
    if not ((root / index.INDEX).exists() or any((root / "reports").glob(f"{PARTITION}=*/*.parquet"))):
        print(
            f"nianbao: {args.warehouse} is not a warehouse (no reports/ nor {index.INDEX}): nothing written",
            file=sys.stderr,
        )  # checked before the lock, which would write .lock into any folder
        return 2
    if args.year is not None and not any((root / "reports").glob(f"{PARTITION}={args.year}/*.parquet")):
        print(f"nianbao: {args.warehouse} has no {args.year} partition: nothing written", file=sys.stderr)
        return 2
    try:
        done = compact(args.warehouse, args.year)
    except (OSError, pa.ArrowException, RunError) as e:
        print(f"nianbao: compacting failed: {e}; what was not compacted is as it was", file=sys.stderr)
        return 3
    for p in done:
        print(
            f"{p['partition']}: {plural(p['reports'], 'report')}, {plural(p['files_before'], 'file')} merged into "
            f"{p['files_after']}"
        )
    if not done:
        print(
            "nothing to compact: every partition has at most one batch file" + (f" ({args.year})" if args.year else "")
        )
    return 0
