"""nianbao.extract.pdf.contentstream reads content streams into exactly the objects pdfminer's own
parser yields: token kind by token kind, on random token soup cut into streams anywhere, and on
every page of real and generated reports; what it declines pdfminer reads. The pages lay_out()
lays out have pdfplumber's own objects, attribute by attribute."""

from __future__ import annotations

import io
import random
import sys
import zlib
from pathlib import Path

import pdfplumber
import pytest
from conftest import REAL, missing
from pdfminer.pdfdocument import PDFDocument
from pdfminer.pdfpage import PDFPage
from pdfminer.pdfparser import PDFParser
from pdfminer.pdftypes import PDFStream, dict_value, list_value, resolve1, stream_value
from pdfminer.psparser import KWD, LIT

from nianbao.extract.pdf import contentstream
from nianbao.extract.pdf.contentstream import objects

sys.path.insert(0, str(Path(__file__).parents[1] / "fixtures"))
import make_pdf  # noqa: E402
import typeset  # noqa: E402


def pdfminer(*streams: bytes) -> list:
    """What pdfminer's PDFContentParser yields for these streams, as its interpreter reads it."""
    return list(contentstream._pdfminer([PDFStream({}, s) for s in streams]))


def plain(o):
    """Comparable: types kept (1 is not 1.0, nor True), names and operators by identity (interned)."""
    if isinstance(o, PDFStream):
        return ("stream", plain(o.attrs), o.rawdata)
    if isinstance(o, list):
        return [plain(x) for x in o]
    if isinstance(o, dict):
        return {k: plain(v) for k, v in o.items()}
    return (type(o).__name__, o)


def same(*streams: bytes) -> list:
    got = objects(list(streams))
    assert got is not None
    assert plain(got) == plain(pdfminer(*streams))
    return got


def test_numbers_as_pdfminer_parses_them():
    got = same(b"1 -2 +3 -.5 .5 1. 1.2.3 - . +. --5 007 5..5 12-3")
    assert plain(got) == plain([1, -2, 3, -0.5, 0.5, 1.0, 1.2, 0.3, -5, 7, 5.0, 0.5, 12, -3])


def test_names_with_hex_escapes():
    got = same(b"/A#20B /#41 /A#4 /A#4g /A#zz /# x /a/b /\xc3\xa9 /\xff /T*' /")
    assert got == [
        LIT("A B"),
        LIT("A"),
        LIT("A\x04"),
        LIT("A\x04g"),
        LIT("Azz"),
        LIT(""),
        KWD(b"x"),
        LIT("a"),
        LIT("b"),
        LIT("é"),
        LIT(b"\xff"),
        LIT("T*'"),
        LIT(""),
    ]


def test_literal_strings():
    got = same(
        b"(a(b)c) (\\101\\1012\\7) (a\\\nb) (a\\\r\nb) (\\n\\t\\(\\)\\\\\\x) () (\\)\\() ((x)(y))(\\12\\() (\\0053)"
    )
    assert got == [b"a(b)c", b"AA2\x07", b"ab", b"ab", b"\n\t()\\", b"", b")(", b"(x)(y)", b"\n(", b"\x053"]


def test_hex_strings_and_their_end():
    # the byte that ends a hex string is read again: "<41>>" closes the dictionary
    got = same(b"<41 42> <414> <> <4a4B> << /K <41>> >> <41)")
    assert plain(got) == plain([b"AB", b"A\x04", b"", b"JK", {"K": b"A"}, b"A", KWD(b")")])


def test_arrays_dictionaries_procedures_side_by_side():
    got = same(b"[1[2]]<</A[/B]/C<</D 1>>>>] } {1 2}[(a)<62>/c]")
    assert plain(got) == plain([[1, [2]], {"A": [LIT("B")], "C": {"D": 1}}, [1, 2], [b"a", b"b", LIT("c")]])


def test_operators_comments_and_nuls():
    got = same(b"BT T* ' \" true false Tj\x00 ET \x001\x00 %c ) ( [\n2 %\r3 \x80 # ) 4%")
    assert plain(got) == plain(
        [
            KWD(b"BT"),
            KWD(b"T*"),
            KWD(b"'"),
            KWD(b'"'),
            True,
            False,
            KWD(b"Tj\x00"),
            KWD(b"ET"),
            1,
            2,
            3,
            KWD(b"\x80"),
            KWD(b"#"),
            KWD(b")"),
            4,
        ]
    )


def test_inline_images_end_where_pdfminer_finds_ei():
    # "EI\x01", "EEI " and "EIEI" do not end the data for pdfminer's matcher; the last line end goes
    got = same(b"q BI /W 2 /H 1 /BPC 8 /CS /G ID \x00EI\x01EEI EIEI\n\nEI Q BI /F /A85 ID 9jqo^~> EI")
    assert plain(got) == plain(
        [
            KWD(b"q"),
            PDFStream({"W": 2, "H": 1, "BPC": 8, "CS": LIT("G")}, b"\x00EI\x01EEI EIEI"),
            KWD(b"EI"),
            KWD(b"Q"),
            PDFStream({"F": LIT("A85")}, b"9jqo^~>"),
            KWD(b"EI"),
        ]
    )


def test_streams_end_tokens_as_line_ends_do():
    assert same(b"0 0 m 1", b"1 l S", b"BT /F1", b" 12 Tf(a)", b"Tj ET") == [
        0,
        0,
        KWD(b"m"),
        1,
        1,
        KWD(b"l"),
        KWD(b"S"),
        KWD(b"BT"),
        LIT("F1"),
        12,
        KWD(b"Tf"),
        b"a",
        KWD(b"Tj"),
        KWD(b"ET"),
    ]
    assert same(b"[1 2", b" 3] TJ <</A", b" 1>>") == [[1, 2, 3], KWD(b"TJ"), {"A": 1}]
    assert same(b"[1 2") == [] and same(b"") == [] and objects([]) == [] == pdfminer()


def test_a_string_escape_across_pdfminers_4096_byte_chunks():
    # "\\\r\n" inside a string is nothing, but pdfminer takes the "\n" in when the "\r" ends a chunk
    for pad, read in ((4095 - 3, b"a\nb"), (4094 - 3, b"ab")):  # the "\r" is the 4096th byte, or not
        assert same(b" " * pad + b"(a\\\r\nb) Tj")[0] == read
    # chunks start again where an inline image's data starts
    image = b"BI /W 1 ID x EI "
    assert same(image + b" " * (image.index(b"ID") + 3 + 4095 - len(image) - 3) + b"(a\\\r\nb)")[-1] == b"a\nb"


@pytest.mark.parametrize(
    "streams, pdfminer_reads",
    [
        ([b"(Hel", b"lo) Tj"], [b"Hel\nlo", KWD(b"Tj")]),  # a string over two streams gets a line end
        ([b"/", b"F1 1 Tf"], [LIT("F1"), 1, KWD(b"Tf")]),  # an empty name goes on into the next stream
        ([b"/A#4", b"1 x"], [LIT("A\x041"), KWD(b"x")]),
        ([b"/A#41"], []),  # dropped at the end while its escape is read
        ([b"1 <", b"<>>"], [1, {}]),
        ([b"<<>", b"> 2"], [{}, 2]),
        ([b"<41", b"42>"], [b"AB"]),
        ([b"BI /W 1 ID x", b"y EI Q"], [PDFStream({"W": 1}, b"xy "), KWD(b"EI"), KWD(b"Q")]),
        ([b"[2 BI /W 1 ID x EI ] 1"], [PDFStream({"W": 1}, b"x "), KWD(b"EI"), 1]),  # the array is forgotten
        ([b"(unended"], []),
    ],
)
def test_what_is_declined_pdfminer_reads(streams, pdfminer_reads):
    assert objects(streams) is None
    assert plain(pdfminer(*streams)) == plain(pdfminer_reads)


@pytest.mark.parametrize("stream, error", [(b"1 (\\777) Tj", AssertionError), (b"<< /A >>", Exception)])
def test_what_pdfminer_fails_on_is_declined(stream, error):
    assert objects([stream]) is None
    with pytest.raises(error):
        pdfminer(stream)


def test_pdfminers_strict_mode_is_left_to_pdfminer(monkeypatch):
    from pdfminer import settings

    monkeypatch.setattr(settings, "STRICT", True)
    assert objects([b"1 2 m"]) is None


FRAGMENTS = [
    b"1",
    b"-2.5",
    b".5",
    b"-",
    b"+.",
    b"1.2.3",
    b"007",
    b"/F1",
    b"/A#20B",
    b"/#4",
    b"/",
    b"/\xe4\xb8\xad",
    b"/\xff",
    b"(a)",
    b"(a(b)c)",
    b"(\\101\\12)",
    b"(\\\n)",
    b"(x\\\r\ny)",
    b"(\\q)",
    b"()",
    b"(\\))",
    b"<41>",
    b"<4 1 A>",
    b"<>",
    b"<<",
    b">>",
    b"[",
    b"]",
    b"{",
    b"}",
    b"%c\n",
    b"%c",
    b"\x00",
    b"Tj",
    b"T*",
    b"'",
    b'"',
    b"true",
    b"false",
    b"BT",
    b"ET",
    b"re",
    b"\x80",
    b")",
    b">",
    b"<",
    b"#",
    b"BI /W 1 /H 1 ID \x00EI\x01 EI",
    b"(",
    b"EI",
]
SPACES = [b"", b" ", b"\n", b"\r\n", b"\t", b"\x00", b"\r"]


def test_random_token_soup_cut_into_streams_anywhere():
    rng = random.Random(11)
    declined = 0
    for _ in range(5000):
        text = b"".join(rng.choice(FRAGMENTS) + rng.choice(SPACES) for _ in range(rng.randint(1, 12)))
        cuts = sorted(rng.sample(range(len(text) + 1), rng.randint(0, 2)))
        streams = [text[a:b] for a, b in zip([0, *cuts], [*cuts, len(text)])]
        got = objects(streams)
        try:
            expected = pdfminer(*streams)
        except Exception:  # the page errs in pdfminer: it must not be read here
            assert got is None, streams
            continue
        if got is None:
            declined += 1
        else:
            assert plain(got) == plain(expected), streams
    assert declined < 5000 / 2  # the soup is full of unended strings on purpose; most is read


def _contents(data: bytes):
    """The content streams of every page and of every form XObject the pages use."""
    doc = PDFDocument(PDFParser(io.BytesIO(data)))
    seen = set()

    def forms(resources):
        for x in dict_value(resolve1(dict_value(resources).get("XObject", {}))).values():
            x = stream_value(x)
            if x.get("Subtype") is LIT("Form") and x.objid not in seen:
                seen.add(x.objid)
                yield [x]
                yield from forms(x.get("Resources", {}))

    for page in PDFPage.create_pages(doc):
        yield [stream_value(s) for s in list_value(page.contents)]
        yield from forms(page.resources)


def _same_everywhere(data: bytes) -> int:
    """Asserts every content's objects are pdfminer's; returns how many contents were read here."""
    read = 0
    for streams in _contents(data):
        got = objects([s.get_data() for s in streams])
        if got is not None:
            assert plain(got) == plain(list(contentstream._pdfminer(streams)))
            read += 1
    return read


def test_real_reports():
    paths = sorted(REAL.glob("*/*.pdf")) if REAL.is_dir() else []
    if not paths:
        missing("real PDF reports")
    for path in paths:
        data = path.read_bytes()
        assert _same_everywhere(data) == len(list(_contents(data)))
        assert _page_objects(data, ours=True) == _page_objects(data, ours=False)


def test_generated_reports_of_every_pdf_variant():
    import accuracy

    variants = [v for v, (f, _) in accuracy.VARIANTS.items() if f == "pdf" and v != "pdf/lo-unruled"]  # one LibreOffice
    assert "pdf/lo-ruled" in variants or not typeset.has_ttf()
    for variant in variants:
        data = accuracy.document(variant, 0, 3).data
        assert _same_everywhere(data) == len(list(_contents(data))) > 0, variant
        if variant in ("pdf/wps", "pdf/2019-unruled", "pdf/cid-ruled", "pdf/ttf-3line", "pdf/lo-ruled"):  # (time)
            assert _page_objects(data, ours=True) == _page_objects(data, ours=False), variant
    for data in (
        make_pdf.awkward(),
        make_pdf.simple(),
        make_pdf.build([make_pdf.Page()]),
        typeset.from_layout(accuracy.corpus.layout(accuracy.corpus.report()), "cid", lie="private"),
    ):
        assert _same_everywhere(data) == len(list(_contents(data)))
    assert _page_objects(make_pdf.awkward(), ours=True) == _page_objects(make_pdf.awkward(), ours=False)


def _pdf(*contents: bytes) -> bytes:
    """A one-page PDF drawing Helvetica text from these content streams, in order."""
    objs = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 300 200] /Resources << /Font << /F1 4 0 R >> >> "
        b"/Contents [" + b" ".join(b"%d 0 R" % (5 + i) for i in range(len(contents))) + b"] >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
    ]
    for c in contents:
        z = zlib.compress(c)
        objs.append(b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(z) + z + b"\nendstream")
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for n, body in enumerate(objs, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % n + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1) + b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref)
    return bytes(out)


def _page_objects(data: bytes, ours: bool) -> list:
    """Every page's objects as pdfplumber gives them, or laid out by lay_out(): keys in order."""
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        if ours:
            contentstream.lay_out(pdf)
        return [{kind: [list(o.items()) for o in objs] for kind, objs in page.objects.items()} for page in pdf.pages]


@pytest.mark.parametrize(
    "contents, text",
    [
        ([b"BT /F1 12 Tf 10 100 Td (Hel) Tj", b"(lo) Tj ET 0 0 m 50 50 l S"], "Hello"),  # read here
        ([b"BT /F1 12 Tf 10 100 Td (Hel", b"lo) Tj ET 0 0 m 50 50 l S"], "Hel(cid:10)lo"),  # declined: pdfminer's
    ],
)
def test_pages_laid_out_here_are_pdfplumbers(contents, text):
    data = _pdf(*contents)
    ours = _page_objects(data, ours=True)
    assert ours == _page_objects(data, ours=False)
    assert "".join(dict(c)["text"] for c in ours[0]["char"]) == text and len(ours[0]["line"]) == 1
