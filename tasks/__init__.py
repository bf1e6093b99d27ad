"""Prefect tasks: thin wrappers of nianbao's plain functions, one task per batch of documents."""
