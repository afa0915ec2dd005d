"""`kiosk screens --out DIR`: every screen in every panel size and language, as PNG files."""

from __future__ import annotations

import sys

PANEL_NAMES = ("128x64", "128x32", "128x128")


def register(subs) -> None:
    p = subs.add_parser("screens", help="render every screen to PNG files (no hardware needed)")
    p.add_argument("--out", required=True, metavar="DIR", help="folder for the PNG files")
    p.add_argument("--language", action="append", metavar="LANG",
                   help="only this language (repeatable); default: all")
    p.add_argument("--panel", action="append", choices=PANEL_NAMES,
                   help="only this panel size (repeatable); default: all")
    p.add_argument("--scale", type=int, default=1, metavar="N",
                   help="enlarge each pixel N times (1-8), for documents")
    p.set_defaults(func=_screens)


def _screens(args) -> int:
    from display.i18n import LANGUAGES, UnknownLanguage, check_language

    try:
        langs = [check_language(lang) for lang in args.language or LANGUAGES]
    except UnknownLanguage as exc:
        print(f"screens: {exc}", file=sys.stderr)
        return 2
    if not 1 <= args.scale <= 8:
        print(f"screens: --scale {args.scale} is out of range, expected 1 to 8", file=sys.stderr)
        return 2
    try:
        written = write_all(args.out, langs, args.panel or PANEL_NAMES, args.scale)
    except OSError as exc:
        print(f"screens: cannot write to {args.out}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    print(f"{written} screens written under {args.out}")
    return 0


def write_all(out: str, langs, panels, scale: int = 1) -> int:
    """Write DIR/<lang>/<WxH>-<screen>.png; returns how many."""
    from pathlib import Path

    from PIL import Image

    from display.samples import PANELS, SCREENS
    from display.screens import render

    count = 0
    for lang in langs:
        folder = Path(out) / lang
        folder.mkdir(parents=True, exist_ok=True)
        for width, height, mode, _ in PANELS:
            if f"{width}x{height}" not in panels:
                continue
            for name, view in SCREENS.items():
                image = render(view, (width, height), mode, lang)
                if scale > 1:
                    image = image.resize((width * scale, height * scale), Image.Resampling.NEAREST)
                image.save(folder / f"{width}x{height}-{name}.png", optimize=True)
                count += 1
    return count
