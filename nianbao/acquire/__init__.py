"""Acquiring documents: sources (files, folders, manifests, URLs) resolved to documents, polite
HTTP fetches into the raw store (by sha256, every attempt recorded), and discovery of the reports a
site's 年度报告 column lists. Reads the format registry (nianbao.extract) to tell what it fetched."""
