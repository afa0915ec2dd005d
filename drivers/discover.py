"""Which card readers this machine has: nfcpy devices (USB, optionally serial) and PC/SC readers.

Used by ``kiosk readers``. Each library is imported only here and only when asked;
a missing one is reported as a line, not an exception.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FoundReader:
    driver: str  # "nfcpy" or "pcsc"
    path: str  # what to put in [reader] path
    description: str
    usable: bool
    note: str = ""


def nfcpy_readers(search_tty: bool = False) -> list[FoundReader]:
    try:
        import nfc
        import nfc.clf.device
        import nfc.clf.transport
    except ImportError:
        return [FoundReader("nfcpy", "", "nfcpy not installed (pip install '.[nfc]')", False)]
    paths = [f"usb:{bus:03d}:{dev:03d}" for vid, pid, bus, dev in nfc.clf.transport.USB.find("usb")
             if (vid, pid) in nfc.clf.device.usb_device_map]
    if search_tty:
        paths += [f"tty:{dev[len('/dev/tty'):]}" for dev in nfc.clf.transport.TTY.find("tty")[0]]
    return [_probe_nfcpy(nfc, p) for p in paths]


def _probe_nfcpy(nfc, path: str) -> FoundReader:
    try:
        clf = nfc.ContactlessFrontend(path)
    except OSError as exc:
        note = ("access denied: install systemd/60-kiosk.rules" if exc.errno == 13 else
                "busy: held by pcscd or the pn533 kernel module (see docs/readers.md)"
                if exc.errno == 16 else str(exc))
        return FoundReader("nfcpy", path, "contactless reader", False, note)
    if clf.device is None:
        return FoundReader("nfcpy", path, "no nfcpy device answers here", False)
    try:
        return FoundReader("nfcpy", path, str(clf.device), True)
    finally:
        clf.close()


def pcsc_readers() -> list[FoundReader]:
    try:
        from smartcard import scard
    except ImportError:
        return [FoundReader("pcsc", "", "pyscard not installed (pip install '.[pcsc]')", False)]
    hr, ctx = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
    if hr != scard.SCARD_S_SUCCESS:
        return [FoundReader("pcsc", "", "pcscd not running", False,
                            scard.SCardGetErrorMessage(hr).strip())]
    try:
        hr, names = scard.SCardListReaders(ctx, [])
        if hr != scard.SCARD_S_SUCCESS:
            names = []
        return [FoundReader("pcsc", n, n, True) for n in names]
    finally:
        scard.SCardReleaseContext(ctx)
