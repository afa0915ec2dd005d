"""A member's personal offer at the counter, over the shop's two real Mosquittos, a real
`ledger serve` on a real SQLite file and the simulated kiosk running the signed program:
the member screen says "For you: Double points today" to a member in the offer's segment and
not to another; online and offline the kiosk's preview counts the doubled points the ledger
last said reach the member, and the ledger's ack replaces the preview with its own figure."""

import json
import subprocess
import sys

import pytest

from display import views as v
from simulation.scenario import Runner, World, wait_for

ADA, BEN = "04A1B2C3D4E5F6", "04B0B0B0B0B0B0"
PROGRAM = """
version = 2
name = "Targeted"
currency = "EUR"
allow_unverified_uid = true

[[segments]]
id = "vip"
name = "Our regulars"
all = [ { label = "vip" } ]

[[promotions]]
id = "double"
name = "Double points today"
multiplier = 2
segments = ["vip"]

[[rewards]]
id = "coffee"
name = "Free coffee"
cost = 100
kind = "amount_off"
amount_minor = 250
"""


@pytest.fixture
def world(tmp_path, monkeypatch):
    key_file, program_file = tmp_path / "program.pem", tmp_path / "shop.toml"
    program_file.write_text(PROGRAM)
    w = World(tmp_path)
    w.ledger.cli("members")  # creates the database
    pub = subprocess.run([sys.executable, "-m", "ledger.cli", "program", "new-key", str(key_file)],
                         capture_output=True, text=True, check=True).stdout.strip()
    monkeypatch.setenv("LEDGER_PROGRAM_KEY", str(key_file))
    w.ledger.cli("program", "load", str(program_file))
    w.ledger.cli("members", "add", "--name", "Ada", "--card", ADA, "--id", "ada")
    w.ledger.cli("members", "add", "--name", "Ben", "--card", BEN, "--id", "ben")
    w.ledger.cli("members", "update", "ada", "--label", "vip")
    w.cfg["program"]["keys"] = [pub]
    try:
        w.start()
        assert wait_for(lambda: w.kiosk.app.session.program.version == 2, 15), "no program"
        yield w
    finally:
        w.stop()


def play(world, *lines):
    Runner(world).run(list(lines), "test")


def results(world, confirmed):
    return [view for view in world.kiosk.views
            if isinstance(view, v.PointsAdded) and view.confirmed == confirmed]


def preview(world, n):
    """The kiosk's ``n``-th preview of a paid basket, once it is drawn."""
    assert wait_for(lambda: len(results(world, confirmed=False)) >= n, 10), "no preview drawn"
    return results(world, confirmed=False)[n - 1]


def balance(world, who):
    return json.loads(world.ledger.cli("balance", who, "--json"))["balance"]


def test_the_member_in_the_segment_sees_the_offer_and_earns_it(world):
    play(world, f"tap {ADA}", 'expect screen "For you: Double points"')
    # 10.00 EUR: 10 points, doubled by the offer; the preview and the ledger agree
    play(world, "open latte:1:1000:coffee", "pay")
    assert preview(world, 1).earned == 20
    assert wait_for(lambda: results(world, confirmed=True), 10)
    assert results(world, confirmed=True)[-1].earned == 20 and balance(world, "ada") == 20


def test_a_member_outside_the_segment_sees_no_offer_and_earns_the_base(world):
    play(world, f"tap {BEN}", 'expect screen "Ben"')
    member_screens = [view for view in world.kiosk.views if isinstance(view, v.MemberRecognised)]
    assert member_screens and all(view.offers == () for view in member_screens)
    assert "for you" not in world.kiosk.screen_text().lower()
    play(world, "open latte:1:1000:coffee", "pay")
    assert preview(world, 1).earned == 10
    assert wait_for(lambda: balance(world, "ben") == 10, 10)


def test_offline_the_kiosk_prices_what_it_was_told_and_the_ack_has_the_last_word(world):
    play(world, f"tap {ADA}", 'expect screen "For you: Double points"',
         "open latte:1:1000:coffee", "pay")  # Ada's offer is now cached
    assert preview(world, 1).earned == 20 and wait_for(lambda: balance(world, "ada") == 20, 10)
    play(world, "network down")
    # while the shop is cut off, the owner takes Ada out of the segment
    world.ledger.cli("members", "update", "ada", "--unlabel", "vip")
    play(world, f"tap {ADA}", 'expect screen "For you: Double points"',
         "open latte:1:1000:coffee", "pay", "expect outbox 1")
    offline = preview(world, 2)
    assert offline.saved_offline and offline.earned == 20, "the offer the kiosk last heard of"
    play(world, "network up", "expect outbox 0 within 20")
    # the ledger applies the program to Ada as she is now: 10 points, and its ack says so
    assert wait_for(lambda: balance(world, "ada") == 30, 10)
    session = world.kiosk.app.session
    assert wait_for(lambda: session.balances.cached(f"card:{ADA}").balance == 30, 10), "the ack's balance"
    # and the next lookup tells the kiosk the offer no longer reaches her
    play(world, f"tap {ADA}", 'expect screen "30 pts"')
    assert "for you" not in world.kiosk.screen_text().lower()
