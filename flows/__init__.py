"""Prefect flows. `python -m flows ingest ...` is the `nianbao` command."""
