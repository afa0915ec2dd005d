"""kiosk.screen_timer: a result message holds the screen for RESULT_SCREEN_S."""

from display import views as v
from kiosk.screen_timer import RESULT_SCREEN_S, ScreenTimer


def test_a_result_holds_the_screen_then_expires_once():
    now = [100.0]
    shown = []
    screen = ScreenTimer(shown.append, lambda: now[0])
    screen.show(v.Idle("L"))
    assert not screen.result_up()
    screen.show_result(v.ErrorMessage("no"))
    assert shown == [v.Idle("L"), v.ErrorMessage("no")] and screen.last_view == v.ErrorMessage("no")
    now[0] += RESULT_SCREEN_S - 0.01
    assert screen.result_up() and not screen.expired(now[0])
    now[0] += 0.01
    assert not screen.result_up()
    assert screen.expired(now[0]) and not screen.expired(now[0] + 1)


def test_clear_ends_the_result_now():
    screen = ScreenTimer(lambda view: None, lambda: 0.0)
    screen.show_result(v.ErrorMessage("no"))
    screen.clear()
    assert not screen.result_up() and not screen.expired(10.0)
