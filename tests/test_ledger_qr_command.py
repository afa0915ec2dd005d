"""`ledger qr MEMBER`: the printed text, the terminal QR and the PNG all carry a code the kiosk accepts."""

import argparse
import time

import pytest

from codes import member_qr as qrcodes
from drivers.qr_decode import decode
from ledger.commands import qr


def run(*argv) -> int:
    # ledger/cli.py does not list the command yet; build the same parser it would.
    parser = argparse.ArgumentParser(prog="ledger")
    qr.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["qr", *argv])
    return args.func(args)


def test_new_key_then_app_code_as_text_terminal_and_png(tmp_path, capsys):
    key = tmp_path / "qr.pem"
    assert run("--new-key", str(key)) == 0
    public = capsys.readouterr().out.split('keys = ["')[1].split('"')[0]
    assert key.stat().st_mode & 0o777 == 0o600
    png = tmp_path / "ada.png"
    assert run("ada", "--key", str(key), "--png", str(png)) == 0
    out = capsys.readouterr().out.splitlines()
    text = out[0]
    assert any("▀" in line or "█" in line for line in out[1:])  # the terminal QR
    from PIL import Image

    assert decode(Image.open(png)) == [text]
    code = qrcodes.Verifier([public], "loyalty").verify(text, time.time())
    assert (code.kind, code.member) == ("m", "ada")


def test_printed_card_code(capsys):
    assert run("bo", "--demo", "--card", "2", "--text-only") == 0
    text = capsys.readouterr().out.strip()
    assert qrcodes.parse(text).counter == 2 and text.startswith("lk1.c.loyalty.bo.2.")


@pytest.mark.parametrize("argv, words", [
    (["Ada Lovelace", "--demo"], "bad member field"),
    (["ada"], "no signing key"),
    (["ada", "--key", "/nonexistent.pem"], "/nonexistent.pem: cannot read"),
    (["ada", "--demo", "--period", "1"], "--period 1 out of range"),
    ([], "give a MEMBER"),
])
def test_mistakes_are_named(argv, words, capsys, monkeypatch):
    monkeypatch.delenv(qr.KEY_ENV, raising=False)
    assert run(*argv) == 2
    assert words in capsys.readouterr().err


def test_existing_key_file_is_not_overwritten(tmp_path, capsys):
    key = tmp_path / "qr.pem"
    key.write_text("precious")
    assert run("--new-key", str(key)) == 2
    assert key.read_text() == "precious" and "cannot create" in capsys.readouterr().err
