"""Interpreting what was extracted: the template matcher (blocks to contract codes), which OCR
readings to trust, the report's metadata (year, body, date), what the narrative states, agency
identity, and the tidy rows of the datasets. Format-blind: it never sees a PDF or a page."""
