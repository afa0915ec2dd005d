"""A USB HID "keyboard wedge" QR scanner read through evdev, grabbed so no keystroke leaks.

Without the grab the scanner's keystrokes would also reach the console (or a
login prompt) of the kiosk. ``device`` is best a stable /dev/input/by-id/ path.
"""

from __future__ import annotations

import select
from collections.abc import Mapping

from codes.member_qr import MAX_TEXT
from drivers.qr_input import QrInput
from drivers.qr_keymap import KeyDecoder


class HidQrReader(QrInput):
    def __init__(self, section: Mapping, name: str = "qr-hid") -> None:
        super().__init__(section, name)
        self.path = self.section["device"]
        if not self.path:
            raise ValueError("qr.device: give the HID scanner's evdev path,"
                             " e.g. /dev/input/by-id/usb-...-event-kbd")
        self.layout = self.section["layout"]
        self.decoder = KeyDecoder(self.layout, max_len=MAX_TEXT)
        self._dev = None

    def open(self) -> None:
        import evdev  # lazily: only where a HID scanner is configured

        try:
            dev = evdev.InputDevice(self.path)
        except OSError as exc:
            raise OSError(f"HID scanner {self.path}: {exc.strerror}") from None
        try:
            dev.grab()
        except OSError as exc:
            dev.close()
            raise OSError(f"HID scanner {self.path}: cannot grab it ({exc.strerror});"
                          " is another program reading it?") from None
        self._dev = dev
        self.decoder = KeyDecoder(self.layout, max_len=MAX_TEXT)

    def close(self) -> None:
        if self._dev is not None:
            try:
                self._dev.ungrab()
            except OSError:
                pass  # the device is gone; nothing to release
            self._dev.close()
            self._dev = None

    def poll(self) -> list[str | bytes]:
        ready, _, _ = select.select([self._dev.fd], [], [], 0.2)
        if not ready:
            return []
        try:
            events = list(self._dev.read())
        except BlockingIOError:
            return []
        except OSError as exc:
            raise OSError(f"HID scanner {self.path}: {exc.strerror}") from None
        return self.feed(events)

    def feed(self, events) -> list[str | bytes]:
        """Lines completed by these evdev events (EV_KEY only; others are ignored)."""
        from evdev import ecodes

        lines: list[str | bytes] = []
        for ev in events:
            if ev.type == ecodes.EV_KEY:
                line = self.decoder.feed(ev.code, ev.value)
                if line is not None:
                    lines.append(line)
        return lines
