"""One source for the screens' words: what a scenario reads is what the renderer drew.

Every sample view (display/samples.py), on every panel and in every language, is shown by a
simulated kiosk (the object the scenario runner reads) on luma's dummy device. PIL's
``ImageDraw.text`` is wrapped so each call is recorded and then still draws: that record is the
text that reached the pixels, and the kiosk's ``screen_text()`` must be exactly it.
"""

from pathlib import Path

import pytest
from PIL import ImageDraw

from display.content import Content, content
from display.i18n import LANGUAGES, Words
from display.samples import EXTREMES, PANELS, SCREENS
from display.typeset import ELLIPSIS
from simulation.scenario import Runner, ScenarioFailed, World, reads
from simulation.simulated_kiosk import SimulatedKiosk, sim_config

VIEWS = {**SCREENS, **EXTREMES}


@pytest.fixture
def drawn(monkeypatch):
    """The text calls that reached the image since the last ``clear()``, as lines.

    A line is drawn as one call per script run (Latin, Devanagari, Telugu) on one baseline,
    so consecutive calls on the same baseline are joined back into the line."""
    calls: list[tuple[float, str]] = []
    original = ImageDraw.ImageDraw.text

    def text(self, xy, text, *args, **kwargs):
        calls.append((xy[1], text))
        return original(self, xy, text, *args, **kwargs)

    monkeypatch.setattr(ImageDraw.ImageDraw, "text", text)

    class Record:
        def clear(self) -> None:
            calls.clear()

        def lines(self) -> list[str]:
            out: list[list] = []
            for y, part in calls:
                if out and out[-1][0] == y:
                    out[-1][1] += part
                else:
                    out.append([y, part])
            return [line for _, line in out]

    return Record()


def kiosk_for(tmp_path: Path, lang: str, height: int, mode: str) -> SimulatedKiosk:
    """A simulated kiosk that is never started: the test calls its screen as the session does.
    The broker port is never dialled."""
    cfg = sim_config(
        1883,
        tmp_path / f"{lang}-{height}-{mode}",
        kiosk={"language": lang},
        display={"driver": "dummy", "height": height, "colour": mode == "RGB"},
    )
    return SimulatedKiosk(cfg)


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("panel", PANELS, ids=lambda p: f"{p[0]}x{p[1]}-{p[2]}")
def test_the_words_a_scenario_reads_are_the_words_drawn(tmp_path, drawn, lang, panel):
    width, height, mode, _ = panel
    kiosk = kiosk_for(tmp_path, lang, height, mode)
    try:
        assert kiosk.screen_text() == "", "nothing drawn yet, nothing to read"
        for name, view in VIEWS.items():
            drawn.clear()
            kiosk.screen.show(view)
            lines = drawn.lines()
            assert lines, f"{name}: nothing drawn"
            assert kiosk.screen_text().split("\n") == lines, name
            assert kiosk.frame().size == (width, height)
    finally:
        kiosk.screen.close()
        if kiosk.app.outbox is not None:  # opened only by run()
            kiosk.app.outbox.close()


def slots(c: Content) -> list[str]:
    return [c.title, c.big, *c.lines, c.bar_label, c.small]


def from_wording(line: str, wording: list[str]) -> bool:
    """``line`` is one of the wording's slots: whole, a run of its words (a wrapped sentence),
    or either of those cut with "…" (possibly inside a word, between clusters)."""
    cut = line.endswith(ELLIPSIS)
    head = " ".join(line.removesuffix(ELLIPSIS).split())
    for slot in filter(None, wording):
        words = " " + " ".join(slot.split()) + " "
        if line == slot or f" {head} " in words or (cut and f" {head}" in words):
            return True
    return False


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_word_drawn_comes_from_the_one_wording(drawn, tmp_path, lang):
    """Nothing on the panel is worded anywhere but display/content.py: each drawn line is a
    slot of ``content()`` in that language (whole, or cut or wrapped to fit), and on the
    large panel the title (perhaps cut) and the big line (perhaps wrapped) are always there."""
    for width, height, mode, _ in PANELS:
        kiosk = kiosk_for(tmp_path, lang, height, mode)
        try:
            for name, view in VIEWS.items():
                kiosk.screen.show(view)
                wording = slots(content(view, Words(lang)))
                lines = kiosk.screen_text().split("\n")
                stray = [line for line in lines if not from_wording(line, wording)]
                assert not stray, f"{name} {width}x{height}: drawn but not worded: {stray}"
                if height == 128 and name in SCREENS:
                    c = content(view, Words(lang))
                    assert from_wording(lines[0], [c.title]), f"{name}: title first"
                    assert reads(c.big) in reads(" ".join(lines[1:])), f"{name}: big line"
        finally:
            kiosk.screen.close()
            if kiosk.app.outbox is not None:  # opened only by run()
                kiosk.app.outbox.close()


def test_a_scenario_reads_the_kiosk_language(tmp_path):
    """The words follow ``[kiosk] language``: a German kiosk's scenario reads German."""
    kiosk = kiosk_for(tmp_path, "de", 64, "1")
    try:
        kiosk.screen.show(SCREENS["basket"])
        text = kiosk.screen_text()
        assert "25,00\xa0€" in text and "Tap your card" not in text
        assert text.split("\n")[0] == Words("de")("Total")
    finally:
        kiosk.screen.close()
        if kiosk.app.outbox is not None:  # opened only by run()
            kiosk.app.outbox.close()


def test_expect_screen_reads_the_drawn_lines(tmp_path):
    """The scenario step itself: it matches what is drawn, a wrapped sentence too, and a
    miss names what the screen shows."""
    world = World(tmp_path)
    world.kiosk = SimulatedKiosk(world.cfg)  # not started: no broker needed to draw
    try:
        world.kiosk.screen.show(EXTREMES["long-error"])
        lines = world.kiosk.screen_text().split("\n")
        assert not any("refused this operation" in line for line in lines), "wrapped there"
        Runner(world).run(['expect screen "Refused this operation" within 0'])
        world.kiosk.screen.show(SCREENS["basket"])
        Runner(world).run(['expect screen "€25.00" within 0'])
        with pytest.raises(
            ScenarioFailed,
            match=r"line 1 .*screen shows 'Total\\n€25.00.*"
            r"not '25.00 EUR'",
        ):
            Runner(world).run(['expect screen "25.00 EUR" within 0'])
    finally:
        world.kiosk.screen.close()
        if world.kiosk.app.outbox is not None:  # opened only by run()
            world.kiosk.app.outbox.close()
