"""How messages write counts, in every layer's words."""


def plural(n: int, noun: str, many: str | None = None) -> str:
    """'1 document', '2 documents'; '1 batch', '2 batches' (`many`)."""
    return f"{n} {noun if n == 1 else many or noun + 's'}"
