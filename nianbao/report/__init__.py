"""Reporting: a run's summary and counts (RunSummary), the validation page, the data dictionary and
the static site of indicators and peers."""
