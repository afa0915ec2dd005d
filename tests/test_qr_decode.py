"""zxing-cpp decodes QR codes in camera-sized frames: sizes, rotation, blur, contrast, noise."""

import numpy as np
import pytest
from PIL import Image

from codes import member_qr as qrcodes
from drivers.qr_decode import decode
from tests.qr_images import frame, qr_image

CODE = qrcodes.demo_code("ada", now=1_800_000_000)
SIZES = [(640, 480), (1280, 720)]  # the Pi camera modes the kiosk uses


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("scale", [3, 4, 6])
def test_clean_code_at_several_sizes(size, scale):
    assert decode(frame([(qr_image(CODE, scale), (60, 30))], size)) == [CODE]


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("spoil", [
    {"rotate": 30}, {"rotate": 90}, {"rotate": 200}, {"blur": 1.0}, {"contrast": 0.25},
    {"noise": 25}, {"blur": 1.5, "noise": 10, "contrast": 0.5},
], ids=lambda s: "-".join(f"{k}{v}" for k, v in s.items()))
def test_spoiled_code(size, spoil):
    assert decode(frame([(qr_image(CODE, 4), (100, 40))], size, **spoil)) == [CODE]


def test_tiny_blurred_code_gives_nothing_rather_than_wrong_text():
    # 2-pixel modules under blur are beyond the decoder: the frame must just read as empty.
    assert decode(frame([(qr_image(CODE, 2), (60, 30))], blur=1.5, noise=10)) == []


@pytest.mark.parametrize("size", SIZES)
def test_frame_without_a_code(size):
    assert decode(frame([], size, noise=10)) == []


def test_two_codes_in_one_frame():
    other = qrcodes.card_code(qrcodes.demo_key(), "loyalty", "bo", 2)
    f = frame([(qr_image(CODE, 3), (10, 10)), (qr_image(other, 3), (330, 150))])
    assert sorted(decode(f)) == sorted([CODE, other])


def test_colour_frames_as_cameras_give_them():
    grey = frame([(qr_image(CODE, 4), (60, 30))])
    bgr = np.dstack([grey, grey, grey])
    xrgb = np.dstack([grey, grey, grey, np.zeros_like(grey)])
    assert decode(bgr) == decode(xrgb) == decode(Image.fromarray(grey)) == [CODE]


def test_binary_content_comes_back_as_bytes():
    junk = bytes(range(256))[::3]
    assert decode(frame([(qr_image(junk, 4), (60, 30))])) == [junk]


def test_light_on_dark_code_needs_invert():
    f = 255 - frame([(qr_image(CODE, 4), (60, 30))])
    assert decode(f) == []
    assert decode(f, invert=True) == [CODE]


@pytest.mark.parametrize("bad", [np.zeros((0, 10), np.uint8), np.zeros((4, 4, 4, 4), np.uint8)])
def test_not_an_image(bad):
    with pytest.raises(ValueError, match="not an image"):
        decode(bad)
