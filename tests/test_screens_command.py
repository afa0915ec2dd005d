"""`kiosk screens --out DIR` writes every screen for every panel and language, and names bad
arguments instead of crashing."""

import argparse

from PIL import Image

from display.i18n import LANGUAGES
from display.samples import SCREENS
from kiosk.commands import screens


def run(*argv) -> int:
    parser = argparse.ArgumentParser()
    screens.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["screens", *argv])
    return args.func(args)


def test_every_screen_size_and_language(tmp_path):
    assert run("--out", str(tmp_path)) == 0
    files = sorted(tmp_path.rglob("*.png"))
    assert len(files) == len(SCREENS) * 3 * len(LANGUAGES)
    with Image.open(tmp_path / "te" / "128x128-member.png") as im:
        assert im.size == (128, 128) and im.mode == "RGB"
    with Image.open(tmp_path / "en" / "128x32-idle.png") as im:
        assert im.size == (128, 32) and im.mode == "1" and im.getbbox()


def test_one_language_one_panel_scaled(tmp_path):
    assert run("--out", str(tmp_path), "--language", "hi", "--panel", "128x64", "--scale", "3") == 0
    assert {p.parent.name for p in tmp_path.rglob("*.png")} == {"hi"}
    with Image.open(tmp_path / "hi" / "128x64-points-added.png") as im:
        assert im.size == (384, 192)


def test_bad_arguments_are_named(tmp_path, capsys):
    assert run("--out", str(tmp_path), "--language", "xx") == 2
    assert "'xx'" in capsys.readouterr().err
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert run("--out", str(blocker / "sub")) == 2
    assert "cannot write to" in capsys.readouterr().err
    assert run("--out", str(tmp_path), "--scale", "0") == 2
