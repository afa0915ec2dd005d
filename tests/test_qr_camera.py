"""The camera path: OpenCV reads a real video file (the same code path as a V4L2 camera
after opening), zxing-cpp decodes, the gate verifies. No camera is needed."""

import time

import cv2
import numpy as np
import pytest

from drivers.base import ReaderHealth, ReadFailed, TokenRead
from drivers.qr_camera import CameraQrReader
from tests.qr_images import frame, qr_image
from tests.qr_support import Sink, card, section


def video(path, frames: list[np.ndarray], size=(640, 480)) -> str:
    out = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10, size)
    for f in frames:
        out.write(cv2.cvtColor(f, cv2.COLOR_GRAY2BGR))
    out.release()
    return str(path)


@pytest.fixture
def clip(tmp_path):
    code = qr_image(card("ada"), 4)
    blank = frame([], noise=5)
    held = [frame([(code, (80 + i, 60))], noise=5, seed=i) for i in range(6)]
    return video(tmp_path / "counter.avi", [blank] * 3 + held + [blank] * 3)


def test_code_held_in_view_is_one_token(clip):
    reader = CameraQrReader(section(driver="camera", device=clip, fps=30))
    sink = Sink()
    reader.start(sink)
    try:
        assert sink.next(ReaderHealth).ok
        ev = sink.next()
        assert isinstance(ev, TokenRead) and (ev.token.value, ev.token.verified) == ("ada", True)
        assert not sink.next(ReaderHealth).ok  # the clip ended: reported as a camera problem
        assert not any(isinstance(e, (TokenRead, ReadFailed)) for e in sink.drain())
    finally:
        reader.stop()


def test_paused_camera_grabs_nothing_until_resumed(clip):
    reader = CameraQrReader(section(driver="camera", device=clip, fps=30))
    reader.pause()
    sink = Sink()
    reader.start(sink)
    try:
        assert sink.next(ReaderHealth).ok
        time.sleep(0.5)  # long enough for several frames at 30 fps, were it running
        assert reader.paused and reader.frames == 0 and sink.drain() == []
        reader.resume()
        assert sink.next().token.value == "ada"
        assert reader.frames > 0
    finally:
        reader.stop()


def test_a_foreign_code_is_refused_with_a_reason(tmp_path):
    path = video(tmp_path / "phish.avi", [frame([(qr_image("https://phish.example/", 4), (50, 50))])] * 2)
    reader = CameraQrReader(section(driver="camera", device=path, fps=30))
    sink = Sink()
    reader.start(sink)
    try:
        ev = sink.next()
        assert isinstance(ev, ReadFailed) and ev.reason == "That is a web link"
    finally:
        reader.stop()


def test_missing_camera_is_reported(tmp_path):
    reader = CameraQrReader(section(driver="camera", device=str(tmp_path / "nothing.avi")))
    sink = Sink()
    reader.start(sink)
    try:
        ev = sink.next(ReaderHealth)
        assert not ev.ok and "no such device or file" in ev.detail
    finally:
        reader.stop()
