"""A card registered with `ledger cards add` is the card a tap finds: the kiosk reads it with the
nfcpy driver on nfcpy's udp: device (a second nfcpy process emulates the tag), looks it up at a
real `ledger serve` through the shop's real brokers, and the sale lands on the member."""

from __future__ import annotations

import pytest

from simulation import simulated_kiosk
from simulation.scenario import Runner, World
from tests.test_nfc import Tag, free_udp_port, uri_msg

pytest.importorskip("nfc")


@pytest.fixture
def nfc_world(tmp_path, monkeypatch):
    """The scenario world, its kiosk reading cards through the real nfcpy driver."""
    from drivers.nfc import NfcpyReader

    port = free_udp_port()
    # FeliCa only: the udp device waits 1 s for an answer on each technology polled.
    section = {
        "path": f"udp:localhost:{port}",
        "poll_ms": 100,
        "nfc_targets": "212F",
        "debounce_ms": 0,
        "sun_counter_file": "",
    }
    # The simulated kiosk's reader swapped for the real driver; everything else as in the demo.
    monkeypatch.setattr(simulated_kiosk, "SimReader", lambda: NfcpyReader(section))
    world = World(tmp_path)
    world.start()
    yield world, port
    world.stop()


def test_card_number_and_uid_registered_by_ledger_cards_are_found_when_tapped(nfc_world):
    world, port = nfc_world
    world.ledger.cli("members", "add", "--name", "Ada", "--id", "ada", "--balance", "240")
    world.ledger.cli("cards", "add", "--member", "ada", "--card-number", "MEMBER-0042")
    world.ledger.cli("members", "add", "--name", "Bo", "--id", "bo", "--balance", "80")
    world.ledger.cli("cards", "add", "--member", "bo", "--uid", "02FE0000CAFE0042")
    run = Runner(world).run

    run(["open coffee:2:350:drinks cake:1:420:food"], "ada")
    card = Tag(port, uri_msg("https://loyalty.example/c?c=MEMBER-0042"))
    try:
        run(['expect screen "240 pts" within 15', "pay", "expect balance ada 251"], "ada")
    finally:
        card.remove()
    # Bo's card holds only the shop's web link: it counts by its UID, registered with --uid.
    run(["open tea:1:300:drinks"], "bo")
    card = Tag(port, uri_msg("https://shop.example/welcome"), idm="02FE0000CAFE0042")
    try:
        run(['expect screen "80 pts" within 15', "pay", "expect balance bo 83"], "bo")
    finally:
        card.remove()
    assert world.ledger.balance("MEMBER-0042") == 251  # the card number names Ada at the ledger
