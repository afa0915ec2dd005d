"""nfcpy card reader: PN532 (UART, HSU mode), PN533, ACR122U (USB), and nfcpy's ``udp:`` simulator.

The thread, taps, health and reconnect are drivers.card_reader's; this module
only talks to nfcpy. Each poll (every ``poll_ms``; nfcpy's own rdwr loop waits
0.5 s between polls, we call ``sense`` ourselves to be quicker) looks for a
card; a card held is checked with ``is_present`` rather than re-read, so it
stays one tap.
"""

from __future__ import annotations

from collections.abc import Mapping

from drivers.card_reader import CardGone, CardReader, ReaderDown

UNSUPPORTED_RETRY_S = 5.0  # a device that cannot poll a configured technology will not learn to


class NfcpyReader(CardReader):
    """Reader interface over nfcpy. ``section`` is the config's ``[reader]`` dict."""

    def __init__(self, section: Mapping) -> None:
        import nfc  # imported here: the core never needs nfcpy
        import nfc.clf

        self._nfc = nfc
        super().__init__(section, "")
        self.path = self.section["path"] or "usb"
        self.name = f"nfc:{self.path}"
        brtys = self.section["nfc_targets"].split(",")
        self.targets = [nfc.clf.RemoteTarget(b.strip()) for b in brtys if b.strip()]
        self._clf = None
        self._tag = None

    def poll(self) -> None:
        if self._clf is None:
            self._open()
        try:
            self._look()
        except OSError as exc:  # USB unplugged, serial port gone
            raise ReaderDown(f"reader {self.path} failed: {exc}") from exc
        except self._nfc.clf.UnsupportedTargetError as exc:
            self.set_health(False, f"reader.nfc_targets not supported here: {exc}")
            self.pause(UNSUPPORTED_RETRY_S)

    def close(self) -> None:
        self._tag = None
        if self._clf is not None:
            clf, self._clf = self._clf, None
            clf.close()

    def _open(self) -> None:
        try:
            self._clf = self._nfc.ContactlessFrontend(self.path)
        except (OSError, ValueError) as exc:
            raise ReaderDown(f"cannot open {self.path}: {exc}") from exc
        self.ready(str(self._clf.device or self.path))

    def _look(self) -> None:
        if self._tag is not None:
            if self._tag.is_present:
                return
            self._tag = None
        target = self._clf.sense(*self.targets, iterations=1)
        try:
            tag = self._nfc.tag.activate(self._clf, target) if target is not None else None
        except self._nfc.clf.CommunicationError:  # gone while being activated: not a tap yet
            tag = None
        if tag is None:
            self.card_gone()
            return
        still_there = self.card_seen(bytes(tag.identifier), lambda: self._ndef_octets(tag))
        self._tag = tag if still_there else None

    def _ndef_octets(self, tag) -> bytes | None:
        """The NDEF bytes, None for a card without; CardGone if the card left.

        nfcpy turns a failed read into "no NDEF", so presence is checked to tell a
        card without NDEF from one pulled away mid-read.
        """
        try:
            for _ in range(2):
                ndef = tag.ndef
                if ndef is not None:
                    return bytes(ndef.octets)
                if not tag.is_present:
                    raise CardGone("card removed mid-read")
        except self._nfc.clf.CommunicationError as exc:
            raise CardGone(str(exc)) from exc
        return None
