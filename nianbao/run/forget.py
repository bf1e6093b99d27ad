"""`nianbao forget REPORT_ID|SOURCE --out WAREHOUSE`: a report retired without a newer version.

A manifest row that named a missing file, a document that is not a report: its report leaves the
cell datasets and quarantine as a superseded one does (publish.supersede), its `reports` row stays
in the catalogue with `superseded_by = 'forgotten'`, its findings stay as the audit trail. Under
the warehouse's lock (or lease) like a publish; then, on a folder, the checks across years run
again for its agency, so that no neighbour's finding is about it any more. Ingesting its bytes
again makes it current again: to be rid of it, also take it out of the manifest or folder.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pyarrow as pa

from nianbao.model.errors import NoSuchReport, RunError, WarehouseError
from nianbao.warehouse import index, publish, storage

FORGOTTEN = "forgotten"
_REPORT_ID = re.compile(r"[0-9a-f]{64}")


def forget(warehouse: str | Path, what: str) -> list[str]:
    """Retire the report `what` names: its report_id, or the source (`source_uri` as the catalogue
    holds it) whose current report it is. Returns the ids retired ([] when the report was retired
    already); raises NoSuchReport when the warehouse holds no such report."""
    root = storage.path(warehouse)
    with publish.locked(root):
        held = index.load(root)
        if _REPORT_ID.fullmatch(what):
            where = held.holding({what})
            if not where:
                raise NoSuchReport(f"no report {what} in {warehouse}")
            ids = [what] if any(what in held.sources_at(loc) for loc in where) else []
        else:
            ids = sorted(held.current({what}).get(what, ()))
            if not ids:
                raise NoSuchReport(
                    f"no current report of the source {what!r} in {warehouse} (give a report_id, "
                    "or the source exactly as reports.source_uri holds it)"
                )
        if ids:
            publish.retire(root, held, dict.fromkeys(ids, FORGOTTEN))
    if ids and not storage.is_remote(root):  # the across-years checks run on folders (tasks/across.py)
        from nianbao.check import across

        across.check(root, ids, "forget")
        publish.settle(root)
    return ids


def run(args) -> int:
    """The command's `forget`: exit 0 done (or retired already), 2 no such warehouse or report,
    3 the warehouse could not be written (it is as it was)."""
    if not storage.is_remote(args.out) and not Path(args.out).is_dir():
        print(f"nianbao: {args.out} is not a warehouse folder", file=sys.stderr)
        return 2
    try:
        ids = forget(args.out, args.report)
    except NoSuchReport as e:
        print(f"nianbao: {e}", file=sys.stderr)
        return 2
    except (OSError, pa.ArrowException, RunError) as e:  # no change was made, or each was undone
        said = isinstance(e, WarehouseError)  # which says so
        print(f"nianbao: forgetting failed: {e}" + ("" if said else "; the warehouse is as it was"), file=sys.stderr)
        return 3
    if not ids:
        print(f"{args.report}: retired already (superseded or forgotten); nothing to do")
    for rid in ids:
        print(f"forgotten: {rid} (superseded_by = '{FORGOTTEN}'; its cells left the datasets and quarantine)")
    return 0
