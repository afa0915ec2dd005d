"""One frame per batch of events (kiosk/frames.py): what the customer's screen is given.

The kiosk runs with simulated drivers and a luma dummy panel against a private Mosquitto;
events are queued before the loop starts, so they are taken as one batch.
"""

from __future__ import annotations

import logging

from display import views as v
from drivers.base import CardDetected, Token, TokenRead
from kiosk.frames import LatestView
from simulation.scenario import wait_for
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
    views = run_batch(broker, tmp_path, [CardDetected("sim-nfc")])
    assert any(isinstance(view, v.Reading) for view in views), views


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
