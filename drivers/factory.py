"""Opens the drivers the config names; real driver modules are imported only when chosen."""

from __future__ import annotations

import importlib

_READERS = {"nfcpy": "drivers.nfc:NfcpyReader", "pcsc": "drivers.pcsc:PcscReader"}
_QR = {"camera": "drivers.qr_camera:CameraQrReader", "hid": "drivers.qr_hid:HidQrReader",
       "serial": "drivers.qr_serial:SerialQrReader"}


def _load(spec: str):
    module, name = spec.split(":")
    return getattr(importlib.import_module(module), name)


def open_reader(section: dict):
    """The card reader for ``[reader]``, or None for ``driver = "none"``."""
    driver = section["driver"]
    if driver == "none":
        return None
    if driver == "sim":
        from drivers.sim import SimReader

        return SimReader()
    return _load(_READERS[driver])(section)


def open_qr(section: dict):
    driver = section["driver"]
    if driver == "none":
        return None
    if driver == "sim":
        from drivers.sim import SimQr

        if not section["keys"]:
            return SimQr()  # raw text, as before QR keys existed
        from drivers.qr_token import QrGate

        return SimQr(gate=QrGate.from_config(section, "sim-qr"))
    return _load(_QR[driver])(section)


def open_gpio(section: dict):
    """(buttons, feedback) sharing one pin factory."""
    from drivers.gpio import GpioButtons, GpioFeedback, pin_factory

    factory = pin_factory(section["driver"])
    return GpioButtons(section, factory), GpioFeedback(section, factory)
