"""Text that fits: the longest name, the largest balance, every language and panel size.

Checked on geometry and pixels, not by eye: every element's box lies inside the panel,
no two boxes overlap, each text's ink (drawn alone on a larger canvas, so ink beyond
the panel edge is not clipped away) stays inside its own box, and a whole frame has no
ink outside its boxes and header.
"""

import itertools

import pytest
from PIL import Image, ImageDraw

from display import views as v
from display.i18n import LANGUAGES, UnknownLanguage, Words
from display.samples import EXTREMES, LONG_NAME, PANELS, SCREENS
from display.screens import draw_frame, layout
from display.typeset import ELLIPSIS, Text, cut, runs, width

VIEWS = {**SCREENS, **EXTREMES}
PAD = 24
CASES = [(name, (w, h), mode, lang) for name in VIEWS for w, h, mode, _ in PANELS
         for lang in LANGUAGES]


def ink_box(text: Text, size):
    """Bounding box of ``text``'s pixels in panel coordinates, drawn with room around."""
    canvas = Image.new("1", (size[0] + 2 * PAD, size[1] + 2 * PAD))
    text = Text(text.x + PAD, text.y + PAD, text.w, text.h, text.text, text.size, text.bold,
                text.align, "white")
    text.draw(ImageDraw.Draw(canvas))
    box = canvas.getbbox()
    return None if box is None else tuple(c - PAD for c in box)


def inside(inner, outer) -> bool:
    return (inner[0] >= outer[0] and inner[1] >= outer[1] and inner[2] <= outer[2]
            and inner[3] <= outer[3])


def overlap(a, b) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


@pytest.mark.parametrize("name, size, mode, lang", CASES,
                         ids=[f"{c[3]}-{c[1][0]}x{c[1][1]}-{c[0]}" for c in CASES])
def test_everything_inside_the_panel_and_nothing_overlaps(name, size, mode, lang):
    frame = layout(VIEWS[name], size, mode, lang)
    panel = (0, 0, *size)
    boxes = frame.boxes()
    assert frame.texts and frame.texts[0].text, "the title must survive cutting"
    for box in boxes:
        assert inside(box, panel), f"{box} outside the {size} panel"
    for a, b in itertools.combinations(boxes, 2):
        assert not overlap(a, b), f"{a} overlaps {b}"
    for text in frame.texts:
        ink = ink_box(text, size)
        assert ink is not None, f"{text.text!r} draws nothing"
        assert inside(ink, text.box), f"ink {ink} of {text.text!r} leaves its box {text.box}"
    _no_stray_ink(frame, size)


def _no_stray_ink(frame, size):
    """Blank out every box and the header: what is left of the frame must be black."""
    image = draw_frame(frame).convert("L")
    draw = ImageDraw.Draw(image)
    for x0, y0, x1, y1 in frame.boxes() + ([frame.header] if frame.header else []):
        draw.rectangle((x0, y0, x1 - 1, y1 - 1), fill=0)
    assert image.getbbox() is None, f"ink outside any box at {image.getbbox()}"


@pytest.mark.parametrize("w, h, mode, _", PANELS)
@pytest.mark.parametrize("lang", LANGUAGES)
def test_idle_screen_shifted_for_burn_in_stays_inside(w, h, mode, _, lang):
    for dx, dy in itertools.product((-1, 0, 1), repeat=2):
        frame = layout(SCREENS["idle-offline"], (w, h), mode, lang, shift=(dx, dy))
        for text in frame.texts:
            assert inside(ink_box(text, (w, h)), (0, 0, w, h)), (dx, dy, text.text)


def test_long_name_is_cut_cleanly_with_an_ellipsis():
    frame = layout(EXTREMES["long-name"], (128, 64), "1", "en")
    title = frame.texts[0].text
    assert title.endswith(ELLIPSIS) and LONG_NAME.startswith(title[:-1])
    assert not title[:-1].endswith(" "), "no dangling space before the ellipsis"


@pytest.mark.parametrize("text", ["श्रीनिवास रामानुजन", "శ్రీనివాస రామానుజన్", "क्षत्रिय", "Zoë Ångström"])
def test_cutting_never_splits_a_cluster(text):
    """A cut may only fall where no vowel sign, virama or joiner follows or precedes it:
    a dangling virama or matra would render as a broken glyph."""
    for max_w in range(10, width(text, 11)):
        head = cut(text, max_w, 11)
        if not head:
            continue
        body = head[:-1]
        assert text.startswith(body)
        rest = text[len(body):]
        assert not rest or not ('\u0900' <= rest[0] <= '\u0c7f' and rest[0] in
                                "\u093e\u093f\u0940\u0941\u0942\u0947\u0948\u094b\u094c\u094d"
                                "\u0902\u0c3e\u0c3f\u0c40\u0c41\u0c42\u0c46\u0c47\u0c48\u0c4a"
                                "\u0c4b\u0c4c\u0c4d\u0c02")
        assert not body.endswith(("\u094d", "\u0c4d"))
        assert width(head, 11) <= max_w


def test_scripts_are_split_into_runs_with_their_marks():
    assert runs("नमस्ते Ada") == [("deva", "नमस्ते "), ("latn", "Ada")]
    assert runs("డిస్‌ప్లే 5") == [("telu", "డిస్‌ప్లే "), ("latn", "5")]


def test_shaping_is_on():
    """Without raqm, Devanagari and Telugu would be drawn as unjoined letters."""
    from PIL import features

    assert features.check("raqm"), "Pillow lacks raqm: install libraqm0 (scripts/apt-packages.txt)"


def test_numbers_follow_the_language():
    assert Words("en").pts(1234567) == "1,234,567 pts"
    assert Words("de").pts(1234567) == "1.234.567 Pkt."
    assert Words("hi").pts(1234567) == "12,34,567 अंक"
    assert Words("de").money(2500, "EUR") == "25,00\xa0€"
    assert Words("en").money(500, "JPY") == "¥500", "currencies without minor units"


def test_screen_text_is_translated():
    frame = layout(v.Idle("Bean There"), (128, 64), "1", "te")
    assert [t.text for t in frame.texts] == ["Bean There", "మీ కార్డు తాకించండి"]


def test_unknown_language_is_named():
    with pytest.raises(UnknownLanguage, match="'xx'.*en, de, hi, te"):
        layout(v.Idle("x"), (128, 64), "1", "xx")


def test_the_ink_check_catches_a_box_too_small():
    """The checks above would be worthless if ink outside a box went unseen."""
    text = Text(1, 1, 40, 5, "Tap your card", 11)
    assert not inside(ink_box(text, (128, 64)), text.box)
    assert overlap((0, 0, 10, 10), (9, 9, 20, 20)) and not overlap((0, 0, 10, 10), (10, 0, 20, 10))




def _names():
    from hypothesis import strategies as st

    alphabet = st.sampled_from(list("AaBbÉéÖöß -'") + list("कखगमरनािीुूेैोौ्ं") +
                               list("కగమరనాిీుూెేొో్ం"))
    return st.text(alphabet, min_size=1, max_size=60).filter(lambda s: s.strip())


def test_any_name_and_balance_fits():
    """Random names mixing scripts (including marks in odd places) and balances up to 2**31."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(name=_names(), balance=st.integers(0, 2**31 - 1), progress=st.floats(0, 1),
           panel=st.sampled_from(PANELS), lang=st.sampled_from(LANGUAGES))
    def check(name, balance, progress, panel, lang):
        w, h, mode, _ = panel
        view = v.MemberRecognised(name, balance, name, projected_earn=balance,
                                  next_goal=name, progress=progress)
        frame = layout(view, (w, h), mode, lang)
        for box in frame.boxes():
            assert inside(box, (0, 0, w, h))
        for a, b in itertools.combinations(frame.boxes(), 2):
            assert not overlap(a, b)
        for text in frame.texts:
            ink = ink_box(text, (w, h))
            assert ink is None or inside(ink, text.box), (text.text, ink, text.box)

    check()
