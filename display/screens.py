"""Screens as pure functions: a view model in, a PIL image out.

``layout()`` places the wording of a view (display/content.py) as boxes on a
panel of a given size and mode; ``render()`` draws them. ``Frame.lines()`` is
the text of those boxes, top to bottom: exactly what is drawn, and what the
scenarios read (display.output.ScreenOutput.shown_lines). Tests check the boxes
and the pixels; nothing here touches a device.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from PIL import Image, ImageDraw

from display import views as v
from display.content import Content, content
from display.i18n import Words
from display.typeset import Text, make_text, width, wrap


@dataclass(frozen=True)
class Style:
    """Font sizes (largest first) and spacing for one class of panel."""

    title: tuple[int, ...]
    big: tuple[int, ...]
    line: tuple[int, ...]
    bar_h: int
    pad: int  # inside the header bar
    max_gap: int
    bar_label: bool
    title_h: int | None = None  # tallest title line, so the big line always fits under it


TINY = Style(title=(11, 10, 9), big=(12, 11, 10, 9), line=(10, 9), bar_h=3, pad=0,
             max_gap=2, bar_label=False, title_h=14)
MONO = Style(title=(11, 10), big=(18, 16, 14, 12), line=(11, 10), bar_h=5, pad=1, max_gap=4,
             bar_label=False)
COLOUR = Style(title=(14, 12, 11), big=(26, 22, 18, 14), line=(13, 12, 11), bar_h=8, pad=3,
               max_gap=6, bar_label=True)

TONES = {"idle": (0, 0, 0), "info": (0, 80, 190), "ok": (0, 140, 60), "reward": (190, 120, 0),
         "warn": (200, 100, 0), "error": (190, 0, 0), "tech": (80, 80, 80)}
MARGIN = 1
IDLE_MARGIN = 2  # room for the anti burn-in shift of one pixel each way


@dataclass(frozen=True)
class Bar:
    x: int
    y: int
    w: int
    h: int
    progress: float
    fill: object = "white"

    @property
    def box(self) -> tuple[int, int, int, int]:
        return self.x, self.y, self.x + self.w, self.y + self.h


@dataclass(frozen=True)
class QrBlock:
    """A QR code: dark modules on a lit square (with its quiet zone), as phone cameras expect."""

    x: int
    y: int
    scale: int  # pixels per module
    border: int  # quiet zone, in modules
    rows: tuple[tuple[bool, ...], ...]  # True: a dark module
    text: str  # what it encodes (tests and scenarios read it; it is not drawn as text)

    @property
    def side(self) -> int:
        return (len(self.rows) + 2 * self.border) * self.scale

    @property
    def box(self) -> tuple[int, int, int, int]:
        return self.x, self.y, self.x + self.side, self.y + self.side

    def draw(self, draw: ImageDraw.ImageDraw, lit: object, dark: object) -> None:
        x0, y0, x1, y1 = self.box
        draw.rectangle((x0, y0, x1 - 1, y1 - 1), fill=lit)
        s, at = self.scale, self.border * self.scale
        for r, row in enumerate(self.rows):
            for c, module in enumerate(row):
                if module:
                    x, y = self.x + at + c * s, self.y + at + r * s
                    draw.rectangle((x, y, x + s - 1, y + s - 1), fill=dark)


@dataclass(frozen=True)
class Frame:
    size: tuple[int, int]
    mode: str
    header: tuple[int, int, int, int] | None = None  # filled background of the title
    header_fill: object = "white"
    texts: list[Text] = field(default_factory=list)
    bars: list[Bar] = field(default_factory=list)
    qr: QrBlock | None = None

    def boxes(self) -> list[tuple[int, int, int, int]]:
        """Every element's box (x0, y0, x1, y1), x1/y1 exclusive."""
        return ([t.box for t in self.texts] + [b.box for b in self.bars]
                + ([self.qr.box] if self.qr else []))

    def lines(self) -> list[str]:
        """The text drawn, top to bottom, as it reads on the panel: translated, cut ("…")
        or wrapped to fit, without the lines a small panel has no room for."""
        return [t.text for t in sorted(self.texts, key=lambda t: t.y)]


def style_for(size: tuple[int, int], mode: str) -> Style:
    if size[1] <= 32:
        return TINY
    return COLOUR if mode == "RGB" else MONO


def _colours(mode: str, tone: str) -> dict:
    if mode != "RGB":
        return {"head_bg": "white", "head_fg": "black", "fg": "white", "dim": "white"}
    return {"head_bg": TONES[tone], "head_fg": (255, 255, 255), "fg": (255, 255, 255),
            "dim": (190, 190, 190)}


def layout(view: v.View, size: tuple[int, int] = (128, 64), mode: str = "1",
           lang: str = "en", shift: tuple[int, int] = (0, 0)) -> Frame:
    """Boxes for ``view`` on a ``size`` panel; ``shift`` moves the idle screen (burn-in)."""
    if isinstance(view, v.AccountLink):
        return account_link_layout(view, size, mode, lang)
    c = content(view, Words(lang))
    st = style_for(size, mode)
    idle = c.tone == "idle" or isinstance(view, v.Idle)
    margin = IDLE_MARGIN if idle else MARGIN
    frame = _stack(c, st, size, mode, margin, idle)
    if idle and shift != (0, 0):
        frame = _shifted(frame, shift)
    return frame


def qr_rows(text: str) -> tuple[tuple[bool, ...], ...]:
    """The modules of ``text``'s QR code (segno; error level L: the smallest code, and a
    screen is a clean surface)."""
    import segno  # lazily: only this screen needs it

    code = segno.make(text, error="l", micro=False, boost_error=False)
    return tuple(tuple(bool(m) for m in row) for row in code.matrix)


def qr_block(text: str, room: int, borders: tuple[int, ...] = (4, 3, 2)) -> QrBlock | None:
    """The largest code of ``text`` that fits a ``room``-pixel square (at 0, 0); None when
    not even one pixel a module with a 2-module quiet zone fits (a 128x32 panel)."""
    rows = qr_rows(text)
    for border in borders:
        scale = room // (len(rows) + 2 * border)
        if scale >= 1:
            return QrBlock(0, 0, scale, border, rows, text)
    return None


def account_link_layout(view: v.AccountLink, size: tuple[int, int], mode: str,
                        lang: str) -> Frame:
    """The words on the left, the code against the right edge; the words alone on a panel too
    small for the code (128x32)."""
    width, height = size
    c = content(view, Words(lang))
    st = style_for(size, mode)
    qr = qr_block(view.url, min(height, width // 2 + 8))
    if qr is None:
        return _stack(replace(c, big=c.small, lines=()), st, size, mode, MARGIN, False)
    qr = replace(qr, x=width - qr.side, y=(height - qr.side) // 2)
    text = _stack(c, st, (qr.x - 1, height), mode, MARGIN, False)
    return replace(text, size=size, qr=qr)


def _stack(c: Content, st: Style, size: tuple[int, int], mode: str, margin: int,
           idle: bool) -> Frame:
    width, height = size
    inner = width - 2 * margin
    col = _colours(mode, c.tone)
    centre = "left" if c.tone == "tech" else "center"
    # Title: in a filled header bar, except on the idle screen (a lit bar would burn in).
    pad = 0 if idle else st.pad
    titles = _titles(c.title, st, margin + pad, inner - 2 * pad, centre,
                     col["fg"] if idle else col["head_fg"], idle and height > 32)
    top = titles[-1].y + titles[-1].h + pad
    header = None if idle else (0, 0, width, top)
    items = _body_items(c, st, inner, margin, col, centre, idle, height - margin - top - 1)
    kept = _fit(items, height - margin - top - 1)
    texts, bars = list(titles), []
    y = top + 1
    total = sum(h for _, h, _ in kept)
    slack = height - margin - y - total
    gap = min(st.max_gap, slack // (len(kept) + 1)) if kept else 0
    y += max(0, (slack - gap * (len(kept) - 1)) // 2) if kept else 0
    for _, h, make in kept:
        element = make(y)
        (bars if isinstance(element, Bar) else texts).append(element)
        y += h + gap
    return Frame(size, mode, header, col["head_bg"], texts, bars)


def _titles(title: str, st: Style, at: int, w: int, align: str, fill, big: bool) -> list[Text]:
    """The title in one line; a long program name on the idle screen gets two."""
    sizes = st.big if big else st.title
    if big and width(title, sizes[-1], True) > w and " " in title:
        lines = wrap(title, w, st.title[0], True, 2)
        out = [make_text(at, at, w, lines[0], st.title[:1], True, align, fill)]
        for line in lines[1:]:
            out.append(make_text(at, out[-1].y + out[-1].h, w, line, st.title[:1], True, align,
                                 fill))
        return out
    return [make_text(at, at, w, title, sizes, bold=True, align=align, fill=fill,
                      max_h=st.title_h)]


def _body_items(c: Content, st: Style, inner: int, margin: int, col: dict, align: str,
                idle: bool, room: int):
    """(priority, height, place(y)) for each element under the title, in display order."""
    items = []

    def text_item(prio, text, sizes, bold, fill, max_h=None):
        probe = make_text(margin, 0, inner, text, sizes, bold, align, fill, max_h)
        items.append((prio, probe.h, lambda y, p=probe: replace(p, y=y)))

    big_sizes = st.line if idle else st.big
    if c.big and width(c.big, big_sizes[-1], not idle) > inner and room > 2 * st.line[0] + 6:
        # A sentence (an error's reason) wraps in the line size rather than being cut.
        for i, line in enumerate(wrap(c.big, inner, st.line[-1], False, 3)):
            text_item(1 + 0.1 * i, line, st.line, False, col["fg"])
    elif c.big:
        text_item(1, c.big, big_sizes, not idle, col["fg"], room)
    if c.progress is not None:
        items.append((3, st.bar_h, lambda y: Bar(margin, y, inner, st.bar_h, c.progress,
                                                   col["fg"])))
        if st.bar_label and c.bar_label:
            text_item(4, c.bar_label, st.line, False, col["dim"])
    for i, line in enumerate(c.lines):
        text_item(2 if i == 0 else 5 + i, line, st.line, False, col["dim"])
    return items


def _fit(items, room: int):
    """Drop the least important items until the rest fit in ``room`` pixels (1 px gaps)."""
    kept = list(items)
    while kept and sum(h for _, h, _ in kept) + len(kept) - 1 > room:
        kept.remove(max(reversed(kept), key=lambda item: item[0]))
    return kept


def _shifted(frame: Frame, shift: tuple[int, int]) -> Frame:
    dx, dy = shift
    return replace(frame, texts=[replace(t, x=t.x + dx, y=t.y + dy) for t in frame.texts],
                   bars=[replace(b, x=b.x + dx, y=b.y + dy) for b in frame.bars])


def draw_frame(frame: Frame) -> Image.Image:
    image = Image.new(frame.mode, frame.size)
    draw = ImageDraw.Draw(image)
    if frame.mode == "1":
        draw.fontmode = "1"  # no grey on a one-bit panel: crisp glyphs, not dithered ones
    if frame.header:
        x0, y0, x1, y1 = frame.header
        draw.rectangle((x0, y0, x1 - 1, y1 - 1), fill=frame.header_fill)
    for bar in frame.bars:
        x0, y0, x1, y1 = bar.box
        draw.rectangle((x0, y0, x1 - 1, y1 - 1), outline=bar.fill)
        filled = round((bar.w - 2) * max(0.0, min(1.0, bar.progress)))
        if filled:
            draw.rectangle((x0 + 1, y0 + 1, x0 + filled, y1 - 2), fill=bar.fill)
    for text in frame.texts:
        text.draw(draw)
    if frame.qr:
        frame.qr.draw(draw, "white" if frame.mode != "RGB" else (255, 255, 255),
                      "black" if frame.mode != "RGB" else (0, 0, 0))
    return image


def render(view: v.View, size: tuple[int, int] = (128, 64), mode: str = "1", lang: str = "en",
           shift: tuple[int, int] = (0, 0)) -> Image.Image:
    """Draw ``view`` on a blank frame of ``size`` in PIL ``mode``."""
    return draw_frame(layout(view, size, mode, lang, shift))
