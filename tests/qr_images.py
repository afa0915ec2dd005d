"""Camera-like test frames holding QR codes (segno draws them, PIL and numpy spoil them)."""

from __future__ import annotations

import io

import numpy as np
import segno
from PIL import Image, ImageDraw, ImageFilter


def qr_image(text: str | bytes, scale: int, error: str = "m") -> Image.Image:
    out = io.BytesIO()
    segno.make(text, error=error, micro=False).save(out, kind="png", scale=scale, border=4)
    out.seek(0)
    return Image.open(out).convert("L")


def background(size: tuple[int, int], seed: int = 1) -> Image.Image:
    """A counter-top-like frame: grey gradient and a few dark shapes, no code."""
    w, h = size
    ramp = np.linspace(90, 200, w, dtype=np.float32)[None, :].repeat(h, axis=0)
    img = Image.fromarray(ramp.astype(np.uint8), "L")
    draw = ImageDraw.Draw(img)
    rng = np.random.default_rng(seed)
    for _ in range(6):
        x, y = int(rng.integers(0, w - 60)), int(rng.integers(0, h - 60))
        draw.rectangle([x, y, x + int(rng.integers(10, 60)), y + int(rng.integers(10, 60))],
                       fill=int(rng.integers(0, 80)))
    return img


def frame(codes: list[tuple[Image.Image, tuple[int, int]]], size=(640, 480), rotate: float = 0,
          blur: float = 0, contrast: float = 1.0, noise: float = 0, seed: int = 1) -> np.ndarray:
    """A grey frame with each code pasted at its place, then spoiled as asked."""
    img = background(size, seed)
    for code, at in codes:
        if rotate:
            code = code.rotate(rotate, expand=True, fillcolor=255, resample=Image.BILINEAR)
        img.paste(code, at)
    if blur:
        img = img.filter(ImageFilter.GaussianBlur(blur))
    arr = np.asarray(img, dtype=np.float32)
    if contrast != 1.0:
        arr = 128 + (arr - 128) * contrast
    if noise:
        arr = arr + np.random.default_rng(seed).normal(0, noise, arr.shape)
    return np.clip(arr, 0, 255).astype(np.uint8)
