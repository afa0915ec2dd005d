"""`kiosk readers test` says once, plainly, when it keeps SUN counters in memory only (no
--config), and reads a card all the same: nfcpy's udp: device, a second nfcpy process as the tag."""

import subprocess
import sys

import pytest

from tests.test_nfc import Tag, free_udp_port

pytest.importorskip("nfc")
NOTICE = "no --config: SUN read counters are kept in memory for this test only"


def readers_test(port, *extra):
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "kiosk.cli",
            "readers",
            "test",
            "--driver",
            "nfcpy",
            "--path",
            f"udp:localhost:{port}",
            "--timeout",
            "20",
            *extra,
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_without_config_the_user_is_told_once_and_the_card_is_read():
    port = free_udp_port()
    tag = Tag(port, idm="02FE0000CAFE0001")
    try:
        out = readers_test(port)
    finally:
        tag.remove()
    assert out.returncode == 0, out.stdout + out.stderr
    text = out.stdout + out.stderr
    assert text.count(NOTICE) == 1
    assert out.stdout.index(NOTICE) < out.stdout.index("waiting for a card")
    assert "read uid 02FE0000CAFE0001 (unverified)" in out.stdout


def test_with_a_config_nothing_is_said_about_counters(tmp_path):
    port = free_udp_port()
    conf = tmp_path / "kiosk.toml"
    conf.write_text(
        '[kiosk]\nstore = "store-1"\nlane = "lane-1"\nid = "kiosk-1"\n'
        f'[reader]\ndriver = "nfcpy"\npath = "udp:localhost:{port}"\n'
        f'sun_counter_file = "{tmp_path}/sun-counters.json"\n'
    )
    tag = Tag(port, idm="02FE0000CAFE0002")
    try:
        out = readers_test(port, "--config", str(conf))
    finally:
        tag.remove()
    assert out.returncode == 0, out.stdout + out.stderr
    assert "SUN read counters" not in out.stdout + out.stderr
    assert "read uid 02FE0000CAFE0002" in out.stdout
