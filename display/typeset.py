"""Text that fits: bundled fonts per script, shaped runs, measuring and clean cutting.

Pillow has no font fallback, so a line is split into runs by script (Latin,
Devanagari, Telugu) and each run is shaped (raqm) and drawn with its own font on
one shared baseline. Combining marks, joiners and spaces stay with the run they
follow so a cluster is never split across fonts.
"""

from __future__ import annotations

import math
import unicodedata
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path

from PIL import ImageDraw, ImageFont, features

FONT_DIR = Path(__file__).with_name("fonts")
ELLIPSIS = "…"
_FILES = {"latn": "NotoSans", "deva": "NotoSansDevanagari", "telu": "NotoSansTelugu"}
# Glyphs that reach furthest up and down in each script: line boxes are built from
# their ink, so accents, matras and conjuncts stay inside the box.
_PROBES = {"latn": "ÅÉÄÖgjpqy|", "deva": "र्कि कु ह्रि ङ्ग ॐ", "telu": "క్షి కృ గ్గ్ర ఙ్ఞ ఔ"}
_VIRAMAS = {"\u094d", "\u0c4d"}
MEASURED = 1024  # strings kept measured per cache: a frame has 10-20; full, the three take ~1 MB
_JOINERS = {"\u200c", "\u200d"}


def script_of(ch: str) -> str | None:
    """'deva', 'telu', 'latn', or None for characters that belong to the run they follow."""
    code = ord(ch)
    if ch.isspace() or ch in _JOINERS or unicodedata.category(ch).startswith("M"):
        return None
    if 0x0900 <= code <= 0x097F or 0xA8E0 <= code <= 0xA8FF:
        return "deva"
    if 0x0C00 <= code <= 0x0C7F:
        return "telu"
    return "latn"


def runs(text: str) -> list[tuple[str, str]]:
    """Split ``text`` into (script, substring) runs."""
    return list(_runs(text))


@lru_cache(maxsize=MEASURED)
def _runs(text: str) -> tuple[tuple[str, str], ...]:
    out: list[list[str]] = []
    for ch in text:
        script = script_of(ch)
        if out and (script is None or script == out[-1][0]):
            out[-1][1] += ch
        else:
            out.append([script or "latn", ch])
    return tuple((s, t) for s, t in out)


@cache
def font(script: str, size: int, bold: bool = False) -> ImageFont.FreeTypeFont:
    name = _FILES[script] + ("-Bold" if bold else "-Regular") + ".ttf"
    engine = ImageFont.Layout.RAQM if features.check("raqm") else ImageFont.Layout.BASIC
    return ImageFont.truetype(str(FONT_DIR / name), size, layout_engine=engine)


# Measuring a run is a FreeType (and raqm) layout each time, about 0.1 ms here and ten times that
# on a Pi: a frame measures the same few strings 20 times over, and the next frame mostly the same.
@lru_cache(maxsize=MEASURED)
def _bbox(script: str, size: int, bold: bool, part: str) -> tuple[int, int, int, int]:
    return font(script, size, bold).getbbox(part, anchor="ls")


@lru_cache(maxsize=MEASURED)
def _length(script: str, size: int, bold: bool, part: str) -> float:
    return font(script, size, bold).getlength(part)


def forget_measurements() -> None:
    """Empty the measurement caches: the next frame measures as if its text were new (the
    display benchmark times such a first frame)."""
    for cached in (_bbox, _length, _runs):
        cached.cache_clear()


@cache
def extents(script: str, size: int, bold: bool = False) -> tuple[int, int]:
    """(above, below) the baseline in pixels that any text of ``script`` may reach."""
    left, top, right, bottom = font(script, size, bold).getbbox(_PROBES[script], anchor="ls")
    return -top, bottom


def line_extents(text: str, size: int, bold: bool = False) -> tuple[int, int]:
    """(above, below) for a line: at least what its scripts (and Latin, so boxes of one size
    line up) may reach, and at least what this text's own ink reaches."""
    parts = _runs(text)
    pairs = [extents(s, size, bold) for s in {"latn"} | {s for s, _ in parts}]
    for script, part in parts:
        _, top, _, bottom = _bbox(script, size, bold, part)
        pairs.append((-top, bottom))
    return max(up for up, _ in pairs), max(down for _, down in pairs)


def width(text: str, size: int, bold: bool = False) -> int:
    """The advance of ``text`` in pixels (where the next text would start; centring uses it)."""
    return round(sum(_length(s, size, bold, t) for s, t in _runs(text)))


def fit_width(text: str, size: int, bold: bool = False) -> int:
    """Pixels ``text`` needs to fit a box: its advance, or further where its ink overhangs the
    advance (a Telugu vowel sign at the end of a name does), so a box it fits holds its ink."""
    x, right = 0.0, 0.0
    for script, part in _runs(text):
        right = max(right, x + _bbox(script, size, bold, part)[2])
        x += _length(script, size, bold, part)
    return max(round(x), math.ceil(right))


def _boundary(text: str, i: int) -> bool:
    """May ``text`` be cut before index ``i`` without breaking a grapheme cluster?"""
    if i <= 0 or i >= len(text):
        return True
    ch, prev = text[i], text[i - 1]
    if unicodedata.category(ch).startswith("M") or ch in _JOINERS:
        return False
    return prev not in _VIRAMAS and prev not in _JOINERS


def cut(text: str, max_width: int, size: int, bold: bool = False) -> str:
    """``text`` if it fits, else its longest clean prefix plus an ellipsis.

    Prefers a word boundary when that keeps most of the line; never splits a
    cluster (a consonant and its vowel signs, a conjunct)."""
    if fit_width(text, size, bold) <= max_width:
        return text
    cuts = [i for i in range(len(text), 0, -1) if _boundary(text, i)]
    best = ""
    for i in cuts:
        head = text[:i].rstrip()
        if head and fit_width(head + ELLIPSIS, size, bold) <= max_width:
            best = head
            break
    space = best.rfind(" ")
    if space > 0 and width(best[:space], size, bold) >= 0.7 * width(best, size, bold):
        best = best[:space].rstrip()
    return best + ELLIPSIS if best else ""


@dataclass(frozen=True)
class Text:
    """A line of text placed in a box; ``x, y`` is the box's top-left corner."""

    x: int
    y: int
    w: int
    h: int
    text: str
    size: int
    bold: bool = False
    align: str = "left"  # left | center
    fill: object = "white"

    @property
    def box(self) -> tuple[int, int, int, int]:
        return self.x, self.y, self.x + self.w, self.y + self.h

    def origin(self) -> tuple[int, int]:
        """Left end of the baseline where drawing starts."""
        up, _ = line_extents(self.text, self.size, self.bold)
        x = self.x
        if self.align == "center":
            need = fit_width(self.text, self.size, self.bold)
            # centred on the advance, moved left only where ink overhanging it would leave the box
            x += max(0, min((self.w - width(self.text, self.size, self.bold)) // 2, self.w - need))
        return x, self.y + up

    def draw(self, draw: ImageDraw.ImageDraw) -> None:
        x, base = self.origin()
        for script, part in _runs(self.text):
            f = font(script, self.size, self.bold)
            draw.text((x, base), part, fill=self.fill, font=f, anchor="ls")
            x += _length(script, self.size, self.bold, part)


def make_text(x: int, y: int, w: int, text: str, sizes: tuple[int, ...], bold: bool = False,
              align: str = "left", fill: object = "white", max_h: int | None = None) -> Text:
    """The largest of ``sizes`` at which ``text`` fits ``w`` (and ``max_h``); else cut."""
    def height(size: int) -> int:
        return sum(line_extents(text, size, bold))

    tall_ok = [s for s in sizes if max_h is None or height(s) <= max_h] or [sizes[-1]]
    for size in tall_ok:
        if fit_width(text, size, bold) <= w:
            break
    else:
        size = tall_ok[-1]
        text = cut(text, w, size, bold)
    up, down = line_extents(text, size, bold)
    return Text(x, y, w, up + down, text, size, bold, align, fill)


def wrap(text: str, w: int, size: int, bold: bool = False, max_lines: int = 2) -> list[str]:
    """Words of ``text`` in lines of at most ``w`` pixels; the last line cut if needed."""
    lines: list[str] = []
    words = text.split()
    while words and len(lines) < max_lines:
        line = words.pop(0)
        while words and width(line + " " + words[0], size, bold) <= w:
            line += " " + words.pop(0)
        lines.append(line)
    if words:
        lines[-1] = lines[-1] + " " + " ".join(words)
    return lines[:-1] + [cut(lines[-1], w, size, bold)] if lines else []
