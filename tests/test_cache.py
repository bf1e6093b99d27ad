"""The suite's cache of generated fixtures (tests/cache.py): keyed by content, never stale."""

import io
import zipfile

import cache


def _zip(members: dict[str, bytes], when: tuple) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for name, data in members.items():
            z.writestr(zipfile.ZipInfo(name, when), data)
    return out.getvalue()


def test_a_docx_is_keyed_by_its_members_not_the_time_it_was_saved():
    early = _zip({"word/document.xml": b"<a/>"}, (2024, 1, 1, 0, 0, 0))
    late = _zip({"word/document.xml": b"<a/>"}, (2025, 6, 1, 12, 0, 0))
    other = _zip({"word/document.xml": b"<b/>"}, (2024, 1, 1, 0, 0, 0))
    assert early != late and cache.key(early, "pdf") == cache.key(late, "pdf")
    assert cache.key(other, "pdf") != cache.key(early, "pdf") != cache.key(early, "doc")
    assert cache.key(b"PK\x03\x04 not a zip") != cache.key(b"PK\x03\x04 not a zip!")


def test_made_once_then_read_back_and_nothing_kept_without_a_folder(tmp_path, monkeypatch):
    made = []
    make = lambda: made.append(1) or b"made"
    monkeypatch.setenv("NIANBAO_FIXTURE_CACHE", str(tmp_path))
    assert cache.cached("k", make, b"in", 1) == cache.cached("k", make, b"in", 1) == b"made"
    assert made == [1] and [p.parent.name for p in tmp_path.rglob("*") if p.is_file()] == ["k"]
    cache.cached("k", make, b"in", 2)  # another parameter: made again
    assert made == [1, 1]
    monkeypatch.delenv("NIANBAO_FIXTURE_CACHE")
    cache.cached("k", make, b"in", 1)
    assert made == [1, 1, 1]


def test_kept_is_keyed_by_the_call_as_bound_to_the_signature_and_the_tools(tmp_path, monkeypatch):
    made = []

    @cache.kept("k", lambda: "tool 1.0")
    def make(data: bytes, dpi: int = 200, seed: int = 0) -> bytes:
        made.append((dpi, seed))
        return data + str(dpi).encode()

    monkeypatch.setenv("NIANBAO_FIXTURE_CACHE", str(tmp_path))
    assert make(b"pdf") == make(b"pdf", 200) == make(b"pdf", dpi=200, seed=0) == b"pdf200"
    assert made == [(200, 0)]  # the same call however it is spelled: made once
    assert make(b"pdf", seed=1) == b"pdf200" and make(b"pdf", 150) == b"pdf150"
    assert made == [(200, 0), (200, 1), (150, 0)]
    assert len(list((tmp_path / "k").iterdir())) == 3
