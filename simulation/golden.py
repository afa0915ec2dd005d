"""Reference images of every screen, for the golden tests in tests/test_screens_golden.py.

Every sample view (display/samples.py) in every panel size and language is drawn
on luma.core's ``dummy`` device and compared with tests/reference/<lang>/<size>-<name>.png.
When a change to the screens is intended, regenerate and review the diff:

    .venv/bin/python -m simulation.golden --update
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from pathlib import Path

from PIL import Image, ImageChops

from display import views as v
from display.i18n import LANGUAGES
from display.samples import PANELS, SCREENS
from display.screens import render

REFERENCE = Path(__file__).resolve().parent.parent / "tests" / "reference"


def cases() -> Iterator[tuple[str, v.View, tuple[int, int], str, str]]:
    """(name, view, size, mode, lang) for every golden image."""
    for lang in LANGUAGES:
        for width, height, mode, _ in PANELS:
            for name, view in SCREENS.items():
                yield name, view, (width, height), mode, lang


def reference_path(name: str, size: tuple[int, int], lang: str) -> Path:
    return REFERENCE / lang / f"{size[0]}x{size[1]}-{name}.png"


def on_dummy(view: v.View, size: tuple[int, int], mode: str, lang: str) -> Image.Image:
    """The frame as luma's dummy device holds it after ``display()``."""
    from luma.core.device import dummy

    device = dummy(width=size[0], height=size[1], mode=mode)
    device.display(render(view, size, mode, lang))
    return device.image


def differs(image: Image.Image, path: Path) -> str:
    """'' when ``image`` equals the reference at ``path``, else why not."""
    if not path.exists():
        return f"no reference image {path}"
    with Image.open(path) as ref:
        ref = ref.convert(image.mode)
        if ref.size != image.size:
            return f"size {image.size} != reference {ref.size}"
        box = ImageChops.difference(image.convert("RGB"), ref.convert("RGB")).getbbox()
    return f"pixels differ in box {box}" if box else ""


def update() -> int:
    count = 0
    for name, view, size, mode, lang in cases():
        path = reference_path(name, size, lang)
        path.parent.mkdir(parents=True, exist_ok=True)
        image = on_dummy(view, size, mode, lang)
        if differs(image, path):
            image.save(path, optimize=True)
            count += 1
    return count


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m simulation.golden", description=__doc__.split("\n")[0])
    ap.add_argument("--update", action="store_true", help="rewrite the reference PNGs that differ")
    args = ap.parse_args(argv)
    if args.update:
        print(f"updated {update()} reference images under {REFERENCE}")
        return 0
    bad = [(name, size, lang, why) for name, view, size, mode, lang in cases()
           if (why := differs(on_dummy(view, size, mode, lang), reference_path(name, size, lang)))]
    for name, size, lang, why in bad:
        print(f"{lang} {size[0]}x{size[1]} {name}: {why}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
