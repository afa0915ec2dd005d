"""One line of `kiosk doctor`: a level (OK, WARN, FAIL), what was checked, what was found, the fix.
Its own module so the software checks (kiosk.doctor) and the hardware checks (kiosk.doctor_hw)
share it without importing each other."""

from __future__ import annotations

from dataclasses import dataclass

OK, WARN, FAIL = "OK", "WARN", "FAIL"
EXIT = {OK: 0, WARN: 1, FAIL: 2}


@dataclass(frozen=True)
class Result:
    level: str
    name: str
    detail: str
    fix: str = ""

    def line(self) -> str:
        return f"{self.level:<4} {self.name}: {self.detail}" + (f" -> {self.fix}" if self.fix else "")
