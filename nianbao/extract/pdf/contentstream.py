"""Page content streams read in bulk: the objects pdfminer's PDFContentParser yields, faster.

pdfminer tokenises a page byte by byte through a state machine, a few Python calls and a
log.debug per token; on born-digital reports that was the largest part of our PDF extraction. One
compiled regular expression walks each stream (re.finditer) and a loop builds the same objects:
numbers, names, strings, hex strings, operators, arrays, dictionaries and inline images, with
pdfminer's quirks kept (they decide what our reports read):
- a number is [+-]digits[.digits], what float()/int() refuse is dropped ("-", "."), "1.2.3" is
  1.2 then .3; a name's #xx takes 0-2 hex digits; "\\x" in a string drops both characters and
  "\\ddd" over 255 raises; a hex string ends at its first non-hex byte, which is then read as a
  token (so "<41>>" is a string and a dictionary's end);
- an inline image's data runs from 3 bytes after "ID" to the first "EI" + whitespace pdfminer's
  matcher finds (it skips "EEI " and "EIEI "), less one trailing end of line;
- a stream's end ends a token as a line end would (pdfminer reads the streams as one).
What this reader does not follow exactly (a token or an inline image running over a stream's
end, "\\ddd" over 255, "BI" inside an array, a dictionary of odd length, ...) makes objects()
return None, and the page is then read by pdfminer's own parser: never worse than pdfminer.

Interpreter is pdfminer's page interpreter reading through objects(), with each operator's
method looked up once per page rather than per use; lay_out() gives a pdfplumber PDF's pages
their layout with it (pdfplumber's Page.layout, our interpreter) and Device, pdfplumber's device
making each character (most of a report's objects) in one step: a Char, an LTChar with the same
attributes in the same order as pdfminer's constructor and pdfplumber's tagging give it; its
characters' and paths' coordinates put through their matrices inline, not a call per point.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator

from pdfminer import settings
from pdfminer.layout import LTChar, LTCurve, LTLine, LTRect
from pdfminer.pdffont import PDFUnicodeNotDefined
from pdfminer.pdfinterp import PDFContentParser, PDFInterpreterError, PDFPageInterpreter
from pdfminer.pdftypes import LITERALS_ASCII85_DECODE, PDFStream, resolve1, stream_value
from pdfminer.psparser import (
    KWD,
    LIT,
    PSEOF,
    PSKeyword,
    PSKeywordTable,
    PSLiteral,
    literal_name,
)
from pdfminer.utils import choplist
from pdfplumber.page import PDFPageAggregatorWithMarkedContent
from pdfplumber.utils.exceptions import PdfminerException

log = logging.getLogger("pdfminer.pdfinterp")  # Interpreter's warnings are pdfminer's, as they were
_device_log = logging.getLogger("pdfminer.pdfdevice")  # and Device's

# One token after any whitespace (and NULs, which pdfminer skips between tokens); the group
# that matched tells the kind. The order matters: "<<" before a hex string, numbers before
# one-byte operators. What none of the first ten takes ("(" of a string with nested
# parentheses, an unended string or hex string, "<" or ">" ending the data) comes out as ODD.
_TOKEN = re.compile(
    rb"[\x00\s]*+(?:"
    + rb"|".join(
        [
            rb"(%[^\r\n]*)",  # 1 comment
            rb"/([^/%\[\]()<>{}\s]*)",  # 2 name, its #xx escapes still in
            rb"([-+0-9][0-9]*(?:\.[0-9]*)?|\.[0-9]*)",  # 3 number
            rb"([A-Za-z][^#/%\[\]()<>{}\s]*)",  # 4 operator, true, false
            rb"\(([^()\\]*(?:\\[\s\S][^()\\]*)*)\)",  # 5 string without nested parentheses
            rb"(<<|>>|[\[\]{}])",  # 6 brackets
            rb"<([0-9a-fA-F\s]*)(?=[^0-9a-fA-F\s])",  # 7 hex string; its end is read as the next token
            rb"(>)(?=[\s\S])",  # 8 a lone ">": nothing
            rb"([^\x00\s<>(])",  # 9 any other byte: a one-byte operator
            rb"([^\x00\s])",  # 10 ODD
        ]
    )
    + rb")"
)
COMMENT, NAME, NUMBER, OPERATOR, STRING, BRACKET, HEX, GT, BYTE, ODD = range(1, 11)
_NAME_HEX = re.compile(rb"#([0-9a-fA-F]{0,2})")
_NAME_HEX_AT_END = re.compile(rb"#[0-9a-fA-F]{0,2}\Z")  # pdfminer is still reading the escape
_ESCAPE = re.compile(rb"\\(?:([0-7]{1,3})|(\r\n)|([\s\S]))")
_ESCAPED = {b"b": b"\b", b"t": b"\t", b"n": b"\n", b"f": b"\f", b"r": b"\r", b"(": b"(", b")": b")", b"\\": b"\\"}
_PARENS = re.compile(rb"[()\\]")
_SPACE = re.compile(rb"\s")
_LINE_END = re.compile(rb"(\x0d\x0a|[\x0d\x0a])$")  # pdfminer's, "$" quirk and all
_BUFSIZ = PDFContentParser.BUFSIZ  # pdfminer reads a stream in chunks, and one quirk sees them
_KEYWORDS = PSKeywordTable.dict
_BI, _ID, _EI = KWD(b"BI"), KWD(b"ID"), KWD(b"EI")
_OPEN = {b"[": "a", b"{": "p", b"<<": "d"}
_CLOSE = {b"]": "a", b"}": "p", b">>": "d"}


class _Declined(Exception):
    """Something pdfminer's parser reads in a way this one does not follow."""


def objects(streams: list[bytes]) -> list | None:
    """The objects PDFContentParser(streams) yields, in order; None where not sure to match."""
    if settings.STRICT:  # pdfminer then raises on what it otherwise skips (a stray "]", ...)
        return None
    try:
        return _objects(streams)
    except _Declined:
        return None


def _objects(streams: list[bytes]) -> list:
    out: list = []
    cur = out  # where the next object goes: `out`, or the array/dictionary/inline image being read
    context: list[tuple[str | None, list]] = []  # the enclosing (type, list)s
    curtype: str | None = None
    keywords = _KEYWORDS
    for n, data in enumerate(streams):
        last = n == len(streams) - 1
        size = len(data)
        pos = base = 0  # base: where pdfminer's chunks of this stream start (moved by inline images)
        while pos is not None:
            start, pos = pos, None
            for m in _TOKEN.finditer(data, start):
                kind = m.lastindex
                if kind == NUMBER:
                    token = m[3]
                    try:
                        cur.append(float(token) if b"." in token else int(token))
                    except ValueError:  # "-", ".", "+.": pdfminer drops them
                        pass
                elif kind == OPERATOR:
                    token = m[4]
                    if token == b"true":
                        cur.append(True)
                    elif token == b"false":
                        cur.append(False)
                    else:
                        keyword = keywords.get(token) or KWD(token)
                        if keyword is _BI:
                            if context:  # pdfminer would drop the enclosing array/dictionary
                                raise _Declined
                            context.append((curtype, cur))
                            curtype, cur = "inline", []
                        elif keyword is _ID:
                            if curtype != "inline":
                                raise _Declined
                            image = cur
                            curtype, cur = context.pop()
                            pos, base = _inline(data, m.start(4), image, cur)
                            break  # go on reading after the image
                        else:
                            cur.append(keyword)
                elif kind == NAME:
                    token = m[2]
                    if m.end() == size and ((not token and not last) or _NAME_HEX_AT_END.search(token)):
                        raise _Declined  # pdfminer reads on into the next stream, or drops the name
                    if b"#" in token:
                        token = _NAME_HEX.sub(lambda h: bytes((int(h[1], 16),)) if h[1] else b"", token)
                    try:
                        cur.append(LIT(str(token, "utf-8")))
                    except UnicodeDecodeError:
                        cur.append(LIT(token))
                elif kind == STRING:
                    cur.append(_unescape(m[5], m.start(5), base))
                elif kind == BRACKET:
                    token = m[6]
                    if token in _OPEN:
                        context.append((curtype, cur))
                        curtype, cur = _OPEN[token], []
                    elif curtype == _CLOSE[token]:  # else pdfminer ignores it
                        value: object = cur
                        if curtype == "d":
                            if len(cur) % 2:
                                raise _Declined  # pdfminer raises PSSyntaxError
                            value = {literal_name(k): v for (k, v) in choplist(2, cur) if v is not None}
                        curtype, cur = context.pop()
                        cur.append(value)
                elif kind == HEX:
                    digits = _SPACE.sub(b"", m[7])
                    value = bytes.fromhex(digits[: len(digits) // 2 * 2].decode())
                    cur.append(value + bytes((int(digits[-1:], 16),)) if len(digits) % 2 else value)
                elif kind == BYTE:
                    token = m[9]
                    cur.append(keywords.get(token) or KWD(token))
                elif kind == ODD:
                    if m[10] != b"(":
                        raise _Declined  # an unended hex string, or "<"/">" ending the data
                    end = _string_end(data, m.start(10))
                    cur.append(_unescape(data[m.start(10) + 1 : end - 1], m.start(10) + 1, base))
                    pos = end
                    break
                # COMMENT, GT: nothing
    return out


def _unescape(body: bytes, at: int, base: int) -> bytes:
    """A literal string's bytes as pdfminer reads them; `at` is where its body starts in the
    stream and `base` where pdfminer's chunks start."""
    if b"\\" not in body:
        return body

    def escape(e: re.Match) -> bytes:
        if e[1]:
            code = int(e[1], 8)
            if code > 255:
                raise _Declined  # pdfminer's assert fails: the page errs
            return bytes((code,))
        if e[2]:  # "\\\r\n" is nothing, but pdfminer sees no "\n" after a "\r" ending a chunk
            return b"\n" if (at + e.start(2) - base) % _BUFSIZ == _BUFSIZ - 1 else b""
        return _ESCAPED.get(e[3], b"")  # pdfminer drops an unknown escape with its backslash

    return _ESCAPE.sub(escape, body)


def _string_end(data: bytes, at: int) -> int:
    """Just past the ")" that closes the string opened at `at`, counting nested parentheses."""
    depth, i = 1, at + 1
    while True:
        m = _PARENS.search(data, i)
        if not m:
            raise _Declined  # runs on into the next stream, or is dropped at the end
        c = m[0]
        if c == b"\\":
            i = m.end() + 1  # the escaped byte never counts (an octal digit, or "\r\n", holds no parenthesis)
            continue
        depth += 1 if c == b"(" else -1
        i = m.end()
        if not depth:
            return i


def _inline(data: bytes, at: int, image: list, cur: list) -> tuple[int, int]:
    """An inline image whose "ID" starts at `at`, pushed onto `cur` as pdfminer's do_keyword
    does; returns where reading goes on and where pdfminer's chunks now start."""
    if len(image) % 2:
        raise _Declined
    try:
        attrs = {literal_name(k): resolve1(v) for (k, v) in choplist(2, image)}
        eos = b"EI"
        filters = attrs.get("F")
        if filters is not None:
            if isinstance(filters, PSLiteral):
                filters = [filters]
            if filters[0] in LITERALS_ASCII85_DECODE:
                eos = b"~>"
    except Exception as e:  # pdfminer would raise it
        raise _Declined from e
    start = i = at + len(b"ID ")
    while True:  # pdfminer's matcher: after a wrong byte it looks for eos[0] past that byte
        e = data.find(eos[:1], i)
        if e < 0 or e + 2 >= len(data):
            raise _Declined  # the data would run on into the next stream
        if data[e + 1] != eos[1]:
            i = e + 2
        elif not data[e + 2 : e + 3].isspace():
            i = e + 3
        else:
            break
    value = _LINE_END.sub(b"", data[start:e])
    if eos != b"EI":
        value += eos
    cur.append(PDFStream(attrs, value))
    if eos == b"EI":
        cur.append(_EI)
    return e + 3, start


class Interpreter(PDFPageInterpreter):
    """pdfminer's page interpreter, reading its content streams with objects()."""

    def execute(self, streams) -> None:
        # pdfminer's guard against content streams that invoke themselves, as it is
        valid: list[PDFStream] = []
        self.stream_ids.clear()
        for obj in streams:
            stream = stream_value(obj)
            if stream.objid is None:
                log.warning("Execute called on non-indirect object (inline image?) %r", stream)
                continue
            if stream.objid in self.parent_stream_ids:
                log.warning("Refusing to execute circular reference to content stream %d", stream.objid)
            else:
                valid.append(stream)
                self.stream_ids.add(stream.objid)
        try:
            read = objects([s.get_data() for s in valid])
        except Exception:  # a stream that fails to decode: pdfminer fails (or not) its own way
            read = None
        ops: dict[PSKeyword, tuple | None] = {}
        for obj in _pdfminer(valid) if read is None else read:
            if isinstance(obj, PSKeyword):
                op = ops.get(obj, False)
                if op is False:
                    op = ops[obj] = self._operator(obj)
                if op is None:
                    if settings.STRICT:
                        raise PDFInterpreterError(f"Unknown operator: {str(obj.name, 'utf-8', 'ignore')!r}")
                    continue
                func, nargs = op
                if nargs:
                    args = self.pop(nargs)
                    if len(args) == nargs:
                        func(*args)
                else:
                    func()
            else:
                self.argstack.append(obj)

    def _operator(self, keyword: PSKeyword) -> tuple | None:
        """The bound do_ method for an operator and how many operands it takes, as pdfminer finds them."""
        name = str(keyword.name, "utf-8", "ignore")
        func = getattr(self, "do_" + name.replace("*", "_a").replace('"', "_w").replace("'", "_q"), None)
        return None if func is None else (func, func.__code__.co_argcount - 1)


def _pdfminer(streams: list[PDFStream]) -> Iterator:
    """pdfminer's own parser, lazily, as its execute() reads it."""
    try:
        parser = PDFContentParser(streams)
    except PSEOF:
        return
    while True:
        try:
            yield parser.nextobject()[1]
        except PSEOF:
            return


class Char(LTChar):
    """An LTChar made by Device.render_char, whose attributes are in the same order in every one
    (plumbing.process_object relies on it)."""

    __slots__ = ()


Char.__name__ = Char.__qualname__ = "LTChar"  # pdfplumber names an object's kind after its class


class Device(PDFPageAggregatorWithMarkedContent):
    def render_char(self, matrix, font, fontsize, scaling, rise, cid, ncs, graphicstate) -> float:
        """pdfminer's PDFLayoutAnalyzer.render_char, LTChar.__init__ and pdfplumber's tag_cur_item
        in one: the same values, set in the same order."""
        try:
            text = font.to_unichr(cid)
            assert isinstance(text, str), str(type(text))
        except PDFUnicodeNotDefined:
            text = self.handle_undefined_char(font, cid)
        textwidth = font.char_width(cid)
        textdisp = font.char_disp(cid)
        adv = textwidth * fontsize * scaling
        vertical = font.is_vertical()
        if vertical:
            assert isinstance(textdisp, tuple)
            (vx, vy) = textdisp
            vx = fontsize * 0.5 if vx is None else vx * fontsize * 0.001
            vy = (1000 - vy) * fontsize * 0.001
            bbox = (-vx, vy + rise + adv, -vx + fontsize, vy + rise)
        else:
            descent = font.get_descent() * fontsize
            bbox = (0, descent + rise, adv, descent + rise + fontsize)
        (a, b, c, d, e, f) = matrix
        upright = a * d * scaling > 0 and b * c <= 0
        # apply_matrix_rect(matrix, bbox), its arithmetic and its min/max orders as they are (signed zeros)
        (x0, y0, x1, y1) = bbox
        left1, bottom1 = a * x0 + c * y0 + e, b * x0 + d * y0 + f
        right1, bottom2 = a * x1 + c * y0 + e, b * x1 + d * y0 + f
        right2, top1 = a * x1 + c * y1 + e, b * x1 + d * y1 + f
        left2, top2 = a * x0 + c * y1 + e, b * x0 + d * y1 + f
        (x0, y0, x1, y1) = (
            min(left1, left2, right1, right2),
            min(bottom1, bottom2, top1, top2),
            max(left1, left2, right1, right2),
            max(bottom1, bottom2, top1, top2),
        )
        if x1 < x0:
            (x0, x1) = (x1, x0)
        if y1 < y0:
            (y0, y1) = (y1, y0)
        item = Char.__new__(Char)
        width, height = x1 - x0, y1 - y0
        item.__dict__.update(
            _text=text,
            matrix=matrix,
            fontname=font.fontname,
            ncs=ncs,
            graphicstate=graphicstate,
            adv=adv,
            upright=upright,
            x0=x0,
            y0=y0,
            x1=x1,
            y1=y1,
            width=width,
            height=height,
            bbox=(x0, y0, x1, y1),
            size=width if vertical else height,
            mcid=self.cur_mcid,
            tag=self.cur_tag,
        )
        self.cur_item.add(item)
        return adv

    def render_string_horizontal(
        self, seq, matrix, pos, font, fontsize, scaling, charspace, wordspace, rise, dxscale, ncs, graphicstate
    ):
        """pdfminer's PDFTextDevice.render_string_horizontal, with its translate_matrix per character
        done inline (a call per character: a fifth of reading a page's text)."""
        (x, y) = pos
        (a, b, c, d, e, f) = matrix
        render = self.render_char
        needcharspace = False
        for obj in seq:
            if isinstance(obj, (int, float)):
                x -= obj * dxscale
                needcharspace = True
            elif isinstance(obj, bytes):
                for cid in font.decode(obj):
                    if needcharspace:
                        x += charspace
                    x += render(
                        (a, b, c, d, x * a + y * c + e, x * b + y * d + f),
                        font,
                        fontsize,
                        scaling,
                        rise,
                        cid,
                        ncs,
                        graphicstate,
                    )
                    if cid == 32 and wordspace:
                        x += wordspace
                    needcharspace = True
            else:
                _device_log.warning(
                    "Cannot render horizontal string because %r is not a valid int, float or bytes.", obj
                )
        return (x, y)

    def paint_path(self, gstate, stroke, fill, evenodd, path) -> None:
        """pdfminer's PDFLayoutAnalyzer.paint_path and pdfplumber's tagging, the points put through
        the CTM inline (a ruled table draws hundreds of segments a page): the same objects, each
        value of the same type."""
        shape = "".join(x[0] for x in path)
        if shape[:1] != "m":
            pass  # not a path (pdfminer draws nothing)
        elif shape.count("m") > 1:
            for m in re.finditer(r"m[^m]+", shape):
                self.paint_path(gstate, stroke, fill, evenodd, path[m.start(0) : m.end(0)])
        else:
            (a, b, c, d, e, f) = self.ctm
            pts = []
            for p in path:
                (x, y) = p[-2:] if p[0] != "h" else path[0][-2:]
                pts.append((a * x + c * y + e, b * x + d * y + f))
            transformed_path = []
            for op in path:
                segment = [str(op[0])]
                for i in range(1, len(op) - 1, 2):
                    x, y = float(op[i]), float(op[i + 1])
                    segment.append((a * x + c * y + e, b * x + d * y + f))
                transformed_path.append(tuple(segment))
            if len(shape) > 3 and shape[-2:] == "lh" and pts[-2] == pts[0]:  # a redundant "l" closed with "h"
                shape = shape[:-2] + "h"
                pts.pop()
            style = (gstate.scolor, gstate.ncolor, transformed_path, gstate.dash)
            if shape in {"mlh", "ml"}:
                item = LTLine(gstate.linewidth, pts[0], pts[1], stroke, fill, evenodd, *style)
            elif shape in {"mlllh", "mllll"}:
                (x0, y0), (x1, y1), (x2, y2), (x3, y3), _ = pts
                square = (x0 == x1 and y1 == y2 and x2 == x3 and y3 == y0) or (
                    y0 == y1 and x1 == x2 and y2 == y3 and x3 == x0
                )
                if pts[0] == pts[4] and square:
                    item = LTRect(gstate.linewidth, (*pts[0], *pts[2]), stroke, fill, evenodd, *style)
                else:
                    item = LTCurve(gstate.linewidth, pts, stroke, fill, evenodd, *style)
            else:
                item = LTCurve(gstate.linewidth, pts, stroke, fill, evenodd, *style)
            self.cur_item.add(item)
        self.tag_cur_item()


def lay_out(pdf) -> None:
    """Every page of a pdfplumber PDF laid out with Interpreter: pdfplumber's Page.layout, whose
    result it keeps in `_layout` and reads from there."""
    for page in pdf.pages:
        device = Device(pdf.rsrcmgr, pageno=page.page_number, laparams=pdf.laparams)
        try:
            Interpreter(pdf.rsrcmgr, device).process_page(page.page_obj)
        except Exception as e:
            raise PdfminerException(e)
        page._layout = device.get_result()
