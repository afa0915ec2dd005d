"""Every screen, in every panel size and language, drawn on luma.core's dummy device,
equals its reference PNG in tests/reference/.

When a screen change is intended: `.venv/bin/python -m simulation.golden --update`, then
look at the changed PNGs in the diff before committing them.
"""

import pytest

from simulation.golden import cases, differs, on_dummy, reference_path

CASES = list(cases())


@pytest.mark.parametrize("name, view, size, mode, lang", CASES,
                         ids=[f"{c[4]}-{c[2][0]}x{c[2][1]}-{c[0]}" for c in CASES])
def test_screen_matches_reference(name, view, size, mode, lang, tmp_path):
    image = on_dummy(view, size, mode, lang)
    why = differs(image, reference_path(name, size, lang))
    if why:
        image.save(tmp_path / "actual.png")
    assert not why, (f"{why}; actual frame saved to {tmp_path / 'actual.png'}; if intended, run"
                     " `.venv/bin/python -m simulation.golden --update`")


def test_references_are_not_blank_and_screens_differ():
    """A reference of a black frame would pass forever: each must have ink, and the moments
    must not all look alike."""
    seen = set()
    for name, view, size, mode, lang in CASES:
        image = on_dummy(view, size, mode, lang)
        assert image.getbbox() is not None, (name, size, lang)
        seen.add(image.tobytes())
    assert len(seen) > 0.9 * len(CASES)
