"""A scanned or photographed page made into the clean grey picture the table finder and the
recogniser expect: the paper white and level, the page alone and square, red seals gone.

- Red seals: agencies stamp them over their signature and often over a table. Seen through the
  red channel their ink is nearly as light as the paper, while black type (even under the seal:
  the red ink darkens it, never lightens it) stays dark. What is light in red and plainly red is
  seal ink on paper, made paper. Not a dark pixel, however red: JPEG keeps colour at half
  resolution, so a thin black stroke under a seal comes out reddish, and must stay ink.
- Phone photos: the page lies on a darker desk, seen at a slant (keystone) and turned. The page's
  outline (its outermost edges, a quadrilateral with desk all round it) is warped back to a
  rectangle of the page's own size, the desk cropped away.
- A lean left after straightening by rules (a page without any): `level` turns it by the angle
  at which its text lines stand out sharpest in the ink's row profile.
- Uneven light (a lamp on one side, a lens's vignette, a scanner's shading): the paper's
  brightness, estimated by closing the type away at low resolution, is divided out.
"""

from __future__ import annotations

import functools

import cv2
import numpy as np

_RED = 60  # grey levels by which red ink outshines green: a seal's, not black type's
_LIGHT = 170  # a seal's ink on paper is at least this light in red (black type under it is darker)
_SMALL = 500  # pixels wide the page's outline is looked for at
_PAPER = 0.25  # the background is estimated at this scale


def prepare(page: np.ndarray) -> np.ndarray:
    """A rendered page (RGB or grey) as a grey picture: seals out, the page unwarped, the light
    evened."""
    return flatten(unwarp(unsealed(page) if page.ndim == 3 else page))


def unsealed(rgb: np.ndarray) -> np.ndarray:
    """The red channel, seal ink on paper made paper (255). OpenCV's saturating arithmetic on
    uint8: the same pixels as in int16, in half the time."""
    red, green = cv2.extractChannel(rgb, 0), cv2.extractChannel(rgb, 1)
    return red | (cv2.compare(cv2.subtract(red, green), _RED, cv2.CMP_GT) & cv2.compare(red, _LIGHT, cv2.CMP_GT))


def grey(rgb: np.ndarray) -> np.ndarray:
    """An RGB rendering in grey as pdfium renders grey, (30 R + 59 G + 11 B) // 100, pixel for pixel:
    its own grey rendering costs about twice its RGB one."""
    r, g, b = (rgb[..., i].astype(np.uint16) for i in range(3))
    return ((r * 30 + g * 59 + b * 11) // 100).astype(np.uint8)


def unwarp(gray: np.ndarray) -> np.ndarray:
    """The page cut out of a photo and squared: its outline's four corners mapped onto a rectangle
    as wide and as tall as its longer edges. A picture that is all page (a scanner's) is kept as
    it is: the outline must leave a dark margin around it."""
    f = _SMALL / gray.shape[1]
    small = cv2.GaussianBlur(cv2.resize(gray, None, fx=f, fy=f, interpolation=cv2.INTER_AREA), (5, 5), 0)
    # the page's edge against the desk, however dim the light falls there: the outermost edges
    edges = cv2.dilate(cv2.Canny(small, 20, 60), np.ones((3, 3), np.uint8))
    contours, _ = cv2.findContours(edges, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    if not contours:
        return gray
    outline = cv2.convexHull(max(contours, key=cv2.contourArea))
    area = small.shape[0] * small.shape[1]
    if not 0.3 * area < cv2.contourArea(outline) < 0.95 * area:
        return gray
    corners = None
    for eps in (0.01, 0.02, 0.04, 0.06):
        poly = cv2.approxPolyDP(outline, eps * cv2.arcLength(outline, True), True)
        if len(poly) == 4:
            corners = poly.reshape(4, 2).astype(np.float32) / f
            break
    if corners is None:
        return gray
    outside = np.ones(small.shape, bool)
    cv2.fillConvexPoly(outside.view(np.uint8), (corners * f).astype(np.int32), 0)
    if not outside.any() or np.median(small[outside]) > 0.6 * np.median(small[~outside]):
        return gray  # no desk around it: not a photo of a page
    s = corners.sum(axis=1)
    d = np.diff(corners, axis=1).ravel()
    tl, br, tr, bl = corners[np.argmin(s)], corners[np.argmax(s)], corners[np.argmin(d)], corners[np.argmax(d)]
    width = int(max(np.linalg.norm(tr - tl), np.linalg.norm(br - bl)))
    height = int(max(np.linalg.norm(bl - tl), np.linalg.norm(br - tr)))
    target = np.array([[0, 0], [width, 0], [width, height], [0, height]], np.float32)
    warp = cv2.getPerspectiveTransform(np.array([tl, tr, br, bl], np.float32), target)
    # the outline's edge pixels are a little dark: a margin of paper instead
    return cv2.warpPerspective(
        gray, warp, (width, height), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=255
    )


def flatten(gray: np.ndarray) -> np.ndarray:
    """The page with its paper made evenly white: each pixel divided by the brightness of the
    paper around it (the page closed at a quarter scale by a kernel wider than a character,
    which leaves paper only, then smoothed)."""
    small = cv2.resize(gray, None, fx=_PAPER, fy=_PAPER, interpolation=cv2.INTER_AREA)
    paper = cv2.morphologyEx(small, cv2.MORPH_CLOSE, np.ones((21, 21), np.uint8))
    paper = cv2.GaussianBlur(paper, (0, 0), 5)
    paper = cv2.resize(paper, (gray.shape[1], gray.shape[0]), interpolation=cv2.INTER_LINEAR)
    return evened(gray, paper)


def evened(gray: np.ndarray, paper: np.ndarray) -> np.ndarray:
    """255 gray / paper (a paper of 0 as 1), floored, at most 255: OpenCV's float32 division, then
    0.499 less rounded to uint8, saturating (a quotient of such integers is whole or at least 1/255
    past one: that is its floor). Every pair of values gives numpy's float32 in several passes,
    in half the time."""
    return cv2.subtract(cv2.divide(gray, cv2.max(paper, 1), scale=255.0, dtype=cv2.CV_32F), 0.499, dtype=cv2.CV_8U)


def level(gray: np.ndarray, most: float = 3.0) -> np.ndarray:
    """The page turned so its text lines lie level: of the angles within `most` degrees (a tenth
    apart, at a quarter scale), the one whose rows of ink are sharpest (the row profile's
    variance is greatest: lines of text and the gaps between them, not smeared into each other).
    Searched coarse to fine: every half degree, then the tenths around the best (the sharpness
    rises steadily to its peak: on 300 scanned pages the same picture as trying every tenth, in 21
    turns of the page, not 61)."""
    small = cv2.resize(gray, None, fx=0.25, fy=0.25, interpolation=cv2.INTER_AREA)
    ink = (small < 160).astype(np.float32)
    h, w = ink.shape
    grid = np.arange(-most, most + 0.05, 0.1)

    @functools.cache
    def sharpness(i: int) -> float:
        turned = cv2.warpAffine(ink, cv2.getRotationMatrix2D((w / 2, h / 2), grid[i], 1.0), (w, h))
        return float(turned.sum(axis=1).var())

    coarse = max(range(0, len(grid), 5), key=sharpness)
    angle = grid[max(range(max(coarse - 4, 0), min(coarse + 5, len(grid))), key=sharpness)]
    if abs(angle) < 0.05:
        return gray
    rows, cols = gray.shape
    m = cv2.getRotationMatrix2D((cols / 2, rows / 2), angle, 1.0)
    return cv2.warpAffine(gray, m, (cols, rows), flags=cv2.INTER_LINEAR, borderValue=255)


def ink(gray: np.ndarray) -> np.ndarray:
    """Where a grey image prints: thin type blurred by a scan prints grey, so ink is what is darker
    than halfway from its darkest to the paper (the threshold kept between 150 and 190)."""
    return gray < min(max((int(gray.min()) + 255) // 2, 150), 190)


def bridged(ink: np.ndarray) -> np.ndarray:
    """Ink (255 on 0) with gaps of a few pixels along its rows closed: a thin rule photographed
    at 150 dpi and warped square breaks here and there, and a rule broken short of the rule it
    meets leaves two cells one."""
    return cv2.morphologyEx(ink, cv2.MORPH_CLOSE, np.ones((1, 7), np.uint8))


def runs(mask: np.ndarray, length: int, down: bool = False, bridge: bool = False) -> np.ndarray:
    """The mask's (255 on 0) runs `length` long or more along its rows (down its columns): OpenCV's
    opening by a bar that long (`bridged` first, when `bridge`), pixel for pixel, done on the lines
    that may hold such a run alone (a page's rules: a few hundred of its 2,200 rows, a few dozen of
    its columns; 37 -> 10 ms a page for _rules and straighten's). Such a run covers (length - 7) // 8
    whole blocks of 8 pixels, each all ink (bridged, with some ink: gaps under 7 close); one at the
    picture's edge, which the opening counts from half that length (it takes the outside for ink),
    the blocks along the edge inside that half. Every other line holds none: left blank."""
    if down:  # whole blocks of 8 rows, each column's along a row of this
        h = mask.shape[0] // 8 * 8
        blocks = np.ascontiguousarray(mask[:h].reshape(h // 8, 8, -1).min(axis=1).T > 0)
    else:  # whole blocks of 8 columns, read as 64-bit words
        words = np.ascontiguousarray(mask[:, : mask.shape[1] // 8 * 8]).view(np.uint64)
        blocks = words != 0 if bridge else words == np.uint64(2**64 - 1)
    inner, first, last = (length - 7) // 8, -(-length // 2) // 8, (length // 2 - 6) // 8
    if min(inner, first, last) < 1:
        lines = np.arange(mask.shape[1] if down else mask.shape[0])
    else:
        along = cv2.erode(blocks.view(np.uint8), np.ones((1, inner), np.uint8), borderValue=0).any(axis=1)
        lines = np.flatnonzero(along | blocks[:, :first].all(axis=1) | blocks[:, -last:].all(axis=1))
    out = np.zeros_like(mask)
    if not len(lines):
        return out
    bar = cv2.getStructuringElement(cv2.MORPH_RECT, (1, length) if down else (length, 1))
    if down:
        out[:, lines] = cv2.morphologyEx(np.ascontiguousarray(mask[:, lines]), cv2.MORPH_OPEN, bar)
    else:
        out[lines] = cv2.morphologyEx(bridged(mask[lines]) if bridge else mask[lines], cv2.MORPH_OPEN, bar)
    return out


def components(mask: np.ndarray, connectivity: int = 8) -> tuple[int, np.ndarray, np.ndarray, np.ndarray]:
    """cv2.connectedComponentsWithStats of `mask`, its labels 16-bit: the same components, some four
    times faster on a page (half the memory to write). OpenCV raises rather than wrap past 65,535
    labels: then 32-bit."""
    try:
        return cv2.connectedComponentsWithStatsWithAlgorithm(mask, connectivity, cv2.CV_16U, cv2.CCL_DEFAULT)
    except cv2.error:
        return cv2.connectedComponentsWithStats(mask, connectivity=connectivity)


class Squeezed:
    """The components of a mask whose rows repeat (rules: between two, every row of a table is
    alike), labelled with each run of identical rows, then of identical columns, kept once: a run
    of alike lines connects just what one of them does, so these are components()' (the same
    stats; in raster order with 4-connectivity, 8's numbered otherwise), their boxes and areas put
    back on the mask's rows and columns (an area weighted by the lines a pixel stands for), in a
    small part of the CPU (a page's rules: 9.6 -> 1.4 ms; a table's cells: 21 -> 1.2)."""

    def __init__(self, mask: np.ndarray, connectivity: int = 8):
        rows = _distinct((mask[1:] != mask[:-1]).any(axis=1))
        kept = mask[rows]
        cols = _distinct((kept[:, 1:] != kept[:, :-1]).any(axis=0))
        self.count, self._labels, small, _ = components(np.ascontiguousarray(kept[:, cols]), connectivity)
        self._height = np.diff(rows, append=mask.shape[0])  # the rows each row stands for
        self._width = np.diff(cols, append=mask.shape[1])
        x, y, w, h = (small[:, i] for i in range(4))
        self.stats = np.empty_like(small)
        self.stats[:, 0], self.stats[:, 1] = cols[x], rows[y]
        self.stats[:, 2] = cols[x + w - 1] + self._width[x + w - 1] - cols[x]
        self.stats[:, 3] = rows[y + h - 1] + self._height[y + h - 1] - rows[y]
        weight = (self._height[:, None] * self._width).ravel()
        self.stats[:, 4] = np.bincount(self._labels.ravel(), weight, self.count)
        self._small = small

    def mask(self, i: int) -> np.ndarray:
        """Component `i` over its box, 255 on 0 (uint8), as components()' labels == i there."""
        x, y, w, h = self._small[i, :4]
        inside = np.where(self._labels[y : y + h, x : x + w] == i, np.uint8(255), np.uint8(0))
        return np.repeat(np.repeat(inside, self._height[y : y + h], axis=0), self._width[x : x + w], axis=1)


def _distinct(differs: np.ndarray) -> np.ndarray:
    """The first line of each run of identical lines, given which lines differ from the one before."""
    return np.concatenate(([0], np.flatnonzero(differs) + 1))
