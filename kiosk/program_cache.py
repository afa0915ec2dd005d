"""The last program the kiosk verified, kept on disk next to the outbox, so a kiosk restarted
while the ledger is unreachable still previews with the shop's program, not the default one.

The file holds the signed message as received and is verified again on load: a file edited on
the device, or signed by a key since removed from [program] keys, is not used.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from mqtt import messages

log = logging.getLogger(__name__)


class ProgramCache:
    def __init__(self, path: str | Path, keys: list[str]) -> None:
        self.path, self.keys = Path(path), list(keys)

    def load(self):
        """The cached program (a verified program.rules.RuleProgram), or None."""
        if not self.keys or not self.path.exists():
            return None
        from program.signing import verify

        try:
            program = verify(self.path.read_bytes(), self.keys)
        except (OSError, messages.BadMessage) as exc:
            log.warning("cached program %s not used: %s", self.path, exc)
            return None
        log.info("program version %s from %s until the ledger's arrives", program.version,
                 self.path)
        return program

    def save(self, payload: bytes) -> None:
        """Write it atomically (temporary file, fsync, rename): a power cut keeps the old one."""
        tmp = self.path.with_name(self.path.name + ".tmp")
        try:
            if self.path.exists() and self.path.read_bytes() == payload:
                return  # the retained message again, after a reconnect
            with open(tmp, "wb") as f:
                f.write(payload)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.path)
        except OSError as exc:
            log.warning("cannot keep the program in %s: %s", self.path, exc)
