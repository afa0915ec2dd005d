"""One frame per batch of events (kiosk/frames.py): what the customer's screen is given.

The kiosk runs with simulated drivers and a luma dummy panel against a private Mosquitto;
events are queued before the loop starts, so they are taken as one batch.
"""

from __future__ import annotations

import logging

from display import views as v
from drivers.base import CardDetected, Token, TokenRead
from kiosk.frames import LatestView
from simulation.scenario import World, wait_for
from simulation.simulated_kiosk import SimulatedKiosk, sim_config

CARD = "04AABBCCDDEE01"


def run_batch(broker, tmp_path, events) -> list[v.View]:
    kiosk = SimulatedKiosk(sim_config(broker.port, tmp_path))
    for event in events:
        kiosk.app.events.put(event)
    kiosk.start()
    try:
        wait_for(lambda: any(not isinstance(view, v.Idle) for view in kiosk.views), 5)
    finally:
        kiosk.stop()
    return list(kiosk.views)


def test_card_and_token_in_one_batch_draw_only_the_members_frame(broker, tmp_path):
    views = run_batch(
        broker, tmp_path, [CardDetected("sim-nfc"), TokenRead(Token("uid", CARD, "sim-nfc"))]
    )
    assert not any(isinstance(view, v.Reading) for view in views), views
    customer = [view for view in views if isinstance(view, v.MemberRecognised | v.EnrolOffer)]
    assert customer, f"no customer frame drawn: {views}"


def test_a_card_whose_read_takes_longer_still_shows_reading(broker, tmp_path):
    kiosk = SimulatedKiosk(sim_config(broker.port, tmp_path))
    kiosk.start()
    try:
        # online and settled first: a LinkUp in the card's batch would draw the idle screen
        # over it (seen on a loaded machine), which is right for the kiosk but not this test
        assert wait_for(lambda: kiosk.online and kiosk.app.link.subscribed.is_set(), 10)
        assert wait_for(lambda: kiosk.app.events.empty(), 5)
        kiosk.app.events.put(CardDetected("sim-nfc"))
        assert wait_for(lambda: any(isinstance(view, v.Reading) for view in kiosk.views), 5), \
            kiosk.views
    finally:
        kiosk.stop()


def test_only_the_last_view_of_a_batch_is_drawn():
    drawn = []
    frame = LatestView(drawn.append)
    frame.show(v.Reading())
    frame.show(v.ErrorMessage("try again"))
    frame.flush()
    frame.flush()  # nothing new since: nothing drawn again
    assert drawn == [v.ErrorMessage("try again")]


def test_a_view_that_fails_to_draw_is_logged_and_the_next_is_drawn(caplog):
    drawn = []

    def show(view):
        if isinstance(view, v.Reading):
            raise ValueError("font missing")
        drawn.append(view)

    frame = LatestView(show)
    frame.show(v.Reading())
    with caplog.at_level(logging.ERROR):
        frame.flush()
    assert "drawing Reading failed" in caplog.text
    frame.show(v.ErrorMessage("try again"))
    frame.flush()
    assert drawn == [v.ErrorMessage("try again")]


def test_work_held_for_the_frame_runs_after_it_is_drawn_once():
    happened = []
    frame = LatestView(lambda view: happened.append(("drawn", type(view).__name__)))
    frame.show(v.Reading())
    frame.after(happened.append, ("signal", "reading"))
    frame.after(happened.append, ("signal", "ok"))
    assert happened == []  # nothing runs before the batch's frame
    frame.flush()
    frame.flush()
    assert happened == [("drawn", "Reading"), ("signal", "reading"), ("signal", "ok")]


def test_held_work_runs_without_a_frame_and_one_that_fails_stops_no_other(caplog):
    happened = []

    def broken(pattern):
        raise OSError("pin gone")

    frame = LatestView(happened.append)
    frame.after(broken, "error")
    frame.after(happened.append, "ok")
    with caplog.at_level(logging.ERROR):
        frame.flush()  # no view shown in this batch: what waited runs all the same
    assert happened == ["ok"] and "broken failed" in caplog.text


def test_a_tap_lights_the_led_after_its_frame(broker, tmp_path):
    """The real app: the "reading" pattern reaches the GPIO pins only once the batch's frame
    has been handed to the display (kiosk.app wires the feedback through LatestView.after)."""
    kiosk = SimulatedKiosk(sim_config(broker.port, tmp_path))
    order = []
    kiosk.screen.on_frame = lambda view: order.append(type(view).__name__)
    signal = kiosk.feedback.signal
    kiosk.feedback.signal = lambda pattern: (order.append(pattern), signal(pattern))
    kiosk.start()
    try:
        # online and settled first: a LinkUp in the tap's batch would draw its own view instead
        assert wait_for(lambda: kiosk.online and kiosk.app.link.subscribed.is_set(), 10)
        assert wait_for(lambda: kiosk.app.events.empty(), 5)
        order.clear()
        kiosk.app.events.put(CardDetected("sim-nfc"))
        assert wait_for(lambda: "reading" in order, 5), order
    finally:
        kiosk.stop()
    assert order.index("Reading") < order.index("reading"), order


def test_work_held_first_runs_before_what_waited_already():
    happened = []
    frame = LatestView(lambda view: happened.append("drawn"))
    frame.show(v.Reading())
    frame.after(happened.append, "led")
    frame.after(happened.append, "lookup", first=True)
    frame.flush()
    assert happened == ["drawn", "lookup", "led"]


def _lookups_and_frames(kiosk, card: str) -> list[str]:
    """What reached the broker and the panel, in order, for one tap of ``card``, until the
    ledger's answer is drawn."""
    order = []
    kiosk.screen.on_frame = lambda view: order.append(
        "answered" if isinstance(view, v.MemberRecognised) and not view.balance_is_cached
        else type(view).__name__)
    out = kiosk.app.session.out
    lookup = out.lookup

    def recording(*args, **kwargs):
        order.append("lookup")
        return lookup(*args, **kwargs)

    out.lookup = recording
    assert wait_for(lambda: kiosk.app.events.empty(), 5)
    kiosk.app.events.put(CardDetected("sim-nfc"))
    kiosk.app.events.put(TokenRead(Token("uid", card, "sim-nfc")))
    assert wait_for(lambda: "answered" in order, 10), order
    del out.lookup
    return order


def test_a_cached_members_lookup_goes_out_after_the_frame_a_new_cards_before(tmp_path):
    """The real app, brokers and ledger: a card the kiosk has not seen asks the ledger before
    its first frame; once known, its cached figures are drawn first and the lookup that
    refreshes them goes out after that frame."""
    world = World(tmp_path)
    try:
        world.start_brokers()
        world.ledger.cli("members", "add", "--name", "Ada", "--card", CARD, "--balance", "100")
        world.ledger.start()
        kiosk = world.kiosk = SimulatedKiosk(world.cfg).start()
        assert wait_for(lambda: kiosk.online and kiosk.app.link.subscribed.is_set(), 10)
        first = _lookups_and_frames(kiosk, CARD)
        assert first.index("lookup") < first.index("MemberRecognised") < first.index("answered")
        kiosk.press("cancel")
        cached = _lookups_and_frames(kiosk, CARD)
        assert cached.index("MemberRecognised") < cached.index("lookup") < cached.index("answered")
    finally:
        world.stop()
