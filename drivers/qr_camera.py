"""A camera QR input: picamera2 on a Raspberry Pi, OpenCV (V4L2) elsewhere, zxing-cpp to decode.

It grabs and decodes ``qr.fps`` frames a second, no more, so a Pi Zero 2 W keeps
room for the rest of the kiosk; ``pause()`` stops grabbing altogether while no
session needs a scan and ``resume()`` starts again. ``qr.device``: empty for
the Pi camera (or the first V4L2 camera without picamera2), a number or
/dev/videoN for a V4L2 camera, or a video file (for trying the kiosk with a
recording).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Mapping

from drivers.qr_decode import decode
from drivers.qr_input import QrInput

log = logging.getLogger(__name__)


def _size(resolution: str) -> tuple[int, int]:
    w, h = resolution.split("x")
    return int(w), int(h)


class OpenCvSource:
    """V4L2 camera or video file through OpenCV; frames as BGR numpy arrays."""

    def __init__(self, device: str, size: tuple[int, int]) -> None:
        try:
            import cv2  # lazily: only where a camera is configured
        except ImportError:
            raise OSError("camera: OpenCV is not installed (the 'qr' extra)") from None

        self.device = device
        if device.isdigit() or device.startswith("/dev/video"):
            index = int(device) if device.isdigit() else device
            self.cap = cv2.VideoCapture(index, cv2.CAP_V4L2)
            self.cap.set(cv2.CAP_PROP_FRAME_WIDTH, size[0])
            self.cap.set(cv2.CAP_PROP_FRAME_HEIGHT, size[1])
            self.cap.set(cv2.CAP_PROP_BUFFERSIZE, 1)  # the newest frame, not a stale queue
        else:
            self.cap = cv2.VideoCapture(device)
        if not self.cap.isOpened():
            raise OSError(f"camera {device!r}: OpenCV cannot open it")

    def read(self):
        ok, frame = self.cap.read()
        if not ok:
            raise OSError(f"camera {self.device!r}: no frame (unplugged, or the video ended)")
        return frame

    def close(self) -> None:
        self.cap.release()


class Picamera2Source:
    """The Pi camera through libcamera; the Y plane of YUV420 is the grey frame zxing needs."""

    def __init__(self, size: tuple[int, int]) -> None:
        from picamera2 import Picamera2  # lazily: Raspberry Pi OS's python3-picamera2

        try:
            self.cam = Picamera2()
            self.cam.configure(self.cam.create_video_configuration(
                main={"size": size, "format": "YUV420"}, buffer_count=2))
            self.cam.start()
        except (RuntimeError, IndexError) as exc:
            raise OSError(f"Pi camera: {exc}") from None
        self.height = size[1]

    def read(self):
        return self.cam.capture_array("main")[: self.height]

    def close(self) -> None:
        self.cam.stop()
        self.cam.close()


def open_source(device: str, resolution: str):
    size = _size(resolution)
    if not device:
        try:
            return Picamera2Source(size)
        except ImportError:
            log.info("picamera2 not available; using the first V4L2 camera through OpenCV")
            device = "0"
    return OpenCvSource(device, size)


class CameraQrReader(QrInput):
    def __init__(self, section: Mapping, name: str = "qr-camera") -> None:
        super().__init__(section, name)
        self.device = self.section["device"]
        self.resolution = self.section["resolution"]
        self.interval = 1.0 / self.section["fps"]
        self.frames = 0  # frames grabbed and decoded, for health and the benchmark
        self._running = threading.Event()
        self._running.set()
        self._source = None

    def pause(self) -> None:
        """Stop grabbing frames (no session needs a scan); the camera stays open."""
        self._running.clear()

    def resume(self) -> None:
        self._running.set()

    @property
    def paused(self) -> bool:
        return not self._running.is_set()

    def open(self) -> None:
        if self.device and not self.device.isdigit() and not os.path.exists(self.device):
            raise OSError(f"camera {self.device!r}: no such device or file")
        self._source = open_source(self.device, self.resolution)
        self._due = time.monotonic()

    def close(self) -> None:
        if self._source is not None:
            self._source.close()
            self._source = None

    def poll(self) -> list[str | bytes]:
        if not self._running.wait(0.2):
            return []
        wait = self._due - time.monotonic()
        if wait > 0 and self._stop.wait(wait):
            return []
        self._due = max(self._due + self.interval, time.monotonic())
        frame = self._source.read()
        self.frames += 1
        return decode(frame)
