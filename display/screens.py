"""Screens as pure functions: a view model in, a PIL image out."""

from __future__ import annotations

from PIL import Image, ImageDraw, ImageFont

from display import views as v
from display.text import describe

_FONT = None


def _font() -> ImageFont.ImageFont:
    global _FONT
    if _FONT is None:
        _FONT = ImageFont.load_default()
    return _FONT


def render(view: v.View, size: tuple[int, int] = (128, 64), mode: str = "1") -> Image.Image:
    """Draw ``view`` on a blank frame of ``size`` in PIL ``mode``."""
    image = Image.new(mode, size)
    draw = ImageDraw.Draw(image)
    font = _font()
    line_height = 11
    for row, line in enumerate(describe(view)):
        y = row * line_height
        if y + line_height > size[1]:
            break
        draw.text((1, y), line, fill="white", font=font)
    return image
