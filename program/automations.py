"""Automations as a program file declares them: which of the eight run, their parameters, their
frequency cap and channels. Pure (no database): program.files checks a file's ``[automations]``
section with ``parse_automations``; ledger.automations runs them. A file without the section
gets ``DEFAULTS`` (docs/automations.md). Every message names the key, e.g.
``automations.birthday.days_ahead must be an integer from 0 to 60``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from program.errors import ProgramError

CHANNELS = ("email", "webhook")  # webhook: the automation.fired event (ledger/events.py)
COMMON = ("enabled", "channels", "cap_count", "cap_days")

# name -> its parameters with their default and allowed range
PARAMS: dict[str, dict[str, tuple[int, int, int]]] = {
    "welcome": {"within_days": (14, 1, 365)},
    "win_back": {"min_purchases": (3, 1, 100), "period_days": (182, 1, 730),
                 "away_days": (42, 1, 365), "give_up_days": (120, 1, 1095)},
    "birthday": {"days_ahead": (7, 0, 60)},
    "nearing_reward": {"percent": (90, 1, 99)},
    "reward_available": {},
    "points_expiring": {"days_ahead": (14, 1, 365)},
    "tier_up": {"within_days": (7, 1, 90)},
    "tier_down": {"within_days": (7, 1, 90)},
}
NAMES = tuple(PARAMS)
# (cap_count, cap_days): at most cap_count messages of the automation per member per cap_days
CAPS = {"welcome": (1, 0), "win_back": (1, 90), "birthday": (1, 300), "nearing_reward": (1, 30),
        "reward_available": (1, 30), "points_expiring": (1, 7), "tier_up": (1, 7),
        "tier_down": (1, 7)}


@dataclass(frozen=True)
class Automation:
    name: str
    enabled: bool = True
    channels: tuple[str, ...] = CHANNELS
    cap_count: int = 1  # 0 with cap_days 0: no cap beyond the occasion key
    cap_days: int = 0
    params: dict[str, int] = field(default_factory=dict)

    def param(self, key: str) -> int:
        return self.params[key]


def default(name: str) -> Automation:
    count, days = CAPS[name]
    return Automation(name, cap_count=count, cap_days=days,
                      params={k: v[0] for k, v in PARAMS[name].items()})


DEFAULTS = {name: default(name) for name in NAMES}


def parse_automations(section) -> dict[str, Automation]:
    """A program body's ``automations`` table as settings for all eight automations (the ones
    it leaves out keep their defaults); ProgramError naming the key."""
    if not isinstance(section, dict):
        raise ProgramError("automations must be a table of [automations.NAME] tables")
    out = dict(DEFAULTS)
    for name, table in section.items():
        if name not in PARAMS:
            raise ProgramError(f"automations.{name} is not an automation; one of {', '.join(NAMES)}")
        if not isinstance(table, dict):
            raise ProgramError(f"automations.{name} must be a table")
        out[name] = _one(name, table)
    return out


def _one(name: str, table: dict) -> Automation:
    where = f"automations.{name}"
    known = (*COMMON, *PARAMS[name])
    for key in table:
        if key not in known:
            raise ProgramError(f"{where}.{key} is not a setting of {name}; known: {', '.join(known)}")
    base = DEFAULTS[name]
    enabled = table.get("enabled", base.enabled)
    if not isinstance(enabled, bool):
        raise ProgramError(f"{where}.enabled must be true or false")
    params = {k: _int(table, k, *PARAMS[name][k], where) for k in PARAMS[name]}
    if name == "win_back" and params["give_up_days"] <= params["away_days"]:
        raise ProgramError(f"{where}.give_up_days must be more than away_days"
                           f" ({params['away_days']})")
    return replace(base, enabled=enabled, channels=_channels(table, base, where),
                   cap_count=_int(table, "cap_count", base.cap_count, 0, 100, where),
                   cap_days=_int(table, "cap_days", base.cap_days, 0, 3650, where), params=params)


def _int(table: dict, key: str, fallback: int, low: int, high: int, where: str) -> int:
    value = table.get(key, fallback)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ProgramError(f"{where}.{key} must be an integer from {low} to {high}, not {value!r}")
    return value


def _channels(table: dict, base: Automation, where: str) -> tuple[str, ...]:
    value = table.get("channels", list(base.channels))
    if not isinstance(value, list) or not value or any(c not in CHANNELS for c in value):
        raise ProgramError(f"{where}.channels must be a non-empty list of {', '.join(CHANNELS)},"
                           f" not {value!r}")
    if len(set(value)) != len(value):
        raise ProgramError(f"{where}.channels names a channel twice")
    return tuple(value)
