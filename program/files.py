"""Program files: TOML or YAML in, a validated program body out, the body as a ``RuleProgram``.

The body (the file's content as a plain dict) is what the ledger stores and publishes, so the
kiosk rebuilds the very same engine from the retained message. Every check names the key and,
for a file, the file: ``shop.toml: earning.rounding must be one of ['down', 'nearest', 'up']``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import re
import tomllib
from fractions import Fraction
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import fastjsonschema

from mqtt import messages
from program.automations import parse_automations
from program.bounds import check_limits
from program.engine import Promotion, PunchCard, Reward
from program.errors import ProgramError
from program.rules import RuleProgram, Tier
from program.segments import RFM_SEGMENTS, parse_segments

MAX_FILE = 256 * 1024


@cache
def _validator():
    return fastjsonschema.compile(messages.schema("program")["properties"]["program"])


SUFFIXES = (".toml", ".yaml", ".yml")
DATE_KEYS = {"promotions[].from", "promotions[].until"}  # the keys a file may give a date


def load_file(path: str | Path) -> dict:
    """Read and check a program file (TOML or YAML, by its suffix); the body it describes."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise ProgramError(f"{path}: unknown program file type {suffix or '(no suffix)'};"
                           " name it *.toml (TOML) or *.yaml / *.yml (YAML)")
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ProgramError(f"{path}: cannot read: {exc.strerror}") from None
    if len(raw) > MAX_FILE:
        raise ProgramError(f"{path}: {len(raw)} bytes, more than {MAX_FILE}")
    try:
        return load_text(raw.decode("utf-8"), suffix.lstrip(".").replace("yml", "yaml"))
    except UnicodeDecodeError:
        raise ProgramError(f"{path}: not UTF-8 text") from None
    except ProgramError as exc:
        raise ProgramError(f"{path}: {exc}") from None


def load_text(text: str, fmt: str) -> dict:
    """Check a program's text (``fmt`` "toml" or "yaml"); the body it describes."""
    if fmt not in ("toml", "yaml"):
        raise ProgramError(f"unknown program format {fmt!r}; use toml or yaml")
    if len(text.encode("utf-8")) > MAX_FILE:
        raise ProgramError(f"{len(text.encode('utf-8'))} bytes, more than {MAX_FILE}")
    return check_body(_plain(_parse(text, "." + fmt)))


def _parse(text: str, suffix: str) -> dict:
    if suffix == ".toml":
        try:
            return tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ProgramError(f"not valid TOML: {exc}") from None
    from program import (
        yaml_files as programyaml,  # PyYAML only for those who use it (the kiosk never does)
    )

    return programyaml.parse(text)


def _plain(value, path: str = ""):
    """The file's values as plain JSON, the same for TOML and YAML: a date only where the
    program takes one (as an ISO string), no date elsewhere, no NaN, no null."""
    if isinstance(value, dict):
        return {k: _plain(v, f"{path}.{k}" if path else k) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v, f"{path}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, dt.datetime | dt.time):
        raise ProgramError(f"{path}: {value.isoformat()} has a time of day; a program file"
                           " takes dates (YYYY-MM-DD) only, and times as text")
    if isinstance(value, dt.date):
        if re.sub(r"\[\d+\]", "[]", path) not in DATE_KEYS:
            raise ProgramError(f"{path}: {value.isoformat()} is read as a date; quote it"
                               f" (\"{value.isoformat()}\") if you mean text")
        return value.isoformat()
    if isinstance(value, float) and not math.isfinite(value):
        raise ProgramError(f"{path}: {value} is not a usable number")
    if value is None:
        raise ProgramError(f"{path}: no value")
    if not isinstance(value, str | int | float):  # bool is an int
        raise ProgramError(f"{path}: a {type(value).__name__} is not a program value")
    return value


def check_body(body: dict) -> dict:
    """Validate a program body (from a file or a message); return it unchanged."""
    try:
        _validator()(body)
    except fastjsonschema.JsonSchemaException as exc:
        raise ProgramError(exc.message.replace("data.", "", 1).replace("data ", "program ", 1)) \
            from None
    check_limits(program_from_body(body), body)  # the checks the schema cannot express
    parse_automations(body.get("automations", {}))  # the ledger's alone (docs/automations.md)
    return body


def program_from_body(body: dict) -> RuleProgram:
    """The engine for a validated body; ProgramError for what the schema cannot catch."""
    earning = body.get("earning", {})
    tiers = _tiers(body.get("tiers", []))
    tier_ids = {t.tier_id for t in tiers} | {"member"}
    segment_ids = {d.segment_id for d in parse_segments(body.get("segments", []))}
    segment_ids |= set(RFM_SEGMENTS)
    try:
        ZoneInfo(body.get("timezone", "UTC"))
    except (ZoneInfoNotFoundError, ValueError):
        raise ProgramError(f"timezone {body['timezone']!r} is not a known time zone") from None
    return RuleProgram(
        version=body["version"], name=body["name"], currency=body["currency"],
        allow_unverified_uid=body.get("allow_unverified_uid", True),
        unknown_token=body.get("unknown_token", "enrol"),
        grace_hours=body.get("grace_hours", 0), timezone=body.get("timezone", "UTC"),
        overdraft_points=body.get("overdraft_points", 0),
        minor_per_unit=body.get("minor_per_unit", 100),
        points_per_unit=_frac(earning.get("points_per_unit", 1)),
        rounding=earning.get("rounding", "down"),
        min_spend_minor=earning.get("min_spend_minor", 0),
        max_points_per_basket=earning.get("max_points_per_basket", 0),
        max_points_per_day=earning.get("max_points_per_day", 0),
        enrolment_bonus=earning.get("enrolment_bonus", 0),
        first_visit_bonus=earning.get("first_visit_bonus", 0),
        expire_after_days=earning.get("expire_after_days", 0),
        categories=tuple((k, _frac(v)) for k, v in earning.get("categories", {}).items()),
        skus=tuple((k, _frac(v)) for k, v in earning.get("skus", {}).items()),
        tiers=tiers, tier_window_days=body.get("tier_window_days", 365),
        tier_hold_days=body.get("tier_hold_days", 0),
        tier_review=_review_day(body.get("tier_review")),
        tier_grace_days=body.get("tier_grace_days", 0),
        catalogue=_targeted(_rewards(body.get("rewards", []), tier_ids), body.get("rewards", []),
                            segment_ids, "rewards"),
        promotions=_targeted(_promotions(body.get("promotions", []), tier_ids),
                             body.get("promotions", []), segment_ids, "promotions"),
        punch_cards=_punch_cards(body.get("punch_cards", [])))


def _frac(number: float | int) -> Fraction:
    return Fraction(str(number))  # 1.1 means 11/10, not the nearest binary fraction


def _unique(items: list[dict], what: str) -> None:
    seen = set()
    for i, item in enumerate(items):
        if item["id"] in seen:
            raise ProgramError(f"{what}[{i}].id {item['id']!r} is used twice")
        seen.add(item["id"])


def _tiers(items: list[dict]) -> tuple[Tier, ...]:
    _unique(items, "tiers")
    if any(t["id"] == "member" for t in items):
        raise ProgramError("tiers: 'member' is the tier of everyone below the first tier; "
                           "choose another id")
    tiers = sorted((Tier(t["id"], t.get("name", t["id"]), t["min_points"],
                         _frac(t.get("multiplier", 1))) for t in items),
                   key=lambda t: t.min_points)
    if len({t.min_points for t in tiers}) != len(tiers):
        raise ProgramError("tiers: two tiers have the same min_points")
    return tuple(tiers)


def _known(tiers: list[str], known: set[str], where: str) -> tuple[str, ...]:
    for tier in tiers:
        if tier not in known:
            raise ProgramError(f"{where}.tiers names tier {tier!r}, which is not in [[tiers]]")
    return tuple(tiers)


def _rewards(items: list[dict], tier_ids: set[str]) -> tuple[Reward, ...]:
    _unique(items, "rewards")
    out = []
    for i, r in enumerate(items):
        where, kind = f"rewards[{i}] ({r['id']})", r["kind"]
        need = {"amount_off": "amount_minor", "percent_off": "percent", "free_item": "sku"}[kind]
        if need not in r:
            raise ProgramError(f"{where}: a {kind} reward needs {need}")
        out.append(Reward(r["id"], r["name"], r["cost"], discount_minor=r.get("amount_minor", 0),
                          sku=r.get("sku", "") if kind == "free_item" else "",
                          percent=r.get("percent", 0) if kind == "percent_off" else 0,
                          tiers=_known(r.get("tiers", []), tier_ids, where),
                          stock=r.get("stock", 0), limit_per_member=r.get("limit_per_member", 0)))
    return tuple(out)


def _promotions(items: list[dict], tier_ids: set[str]) -> tuple[Promotion, ...]:
    _unique(items, "promotions")
    out = []
    for i, p in enumerate(items):
        where = f"promotions[{i}] ({p['id']})"
        start, end = _date(p.get("from"), where + ".from"), _date(p.get("until"), where + ".until")
        if start and end and end < start:
            raise ProgramError(f"{where}: until {end} is before from {start}")
        out.append(Promotion(
            p["id"], p.get("name", p["id"]), _frac(p.get("multiplier", 1)),
            p.get("bonus_points", 0), tuple(p.get("days", ())), _hours(p.get("hours"), where),
            start, end, p.get("min_spend_minor", 0), tuple(p.get("skus", ())),
            tuple(p.get("categories", ())), _known(p.get("tiers", []), tier_ids, where),
            p.get("birthday_month", False), p.get("limit_per_member_per_day", 0),
            p.get("limit_per_member", 0)))
    return tuple(out)


def _targeted(built: tuple, items: list[dict], known: set[str], what: str) -> tuple:
    """Rewards or promotions with their ``segments`` (an RFM segment or one of [[segments]])."""
    out = []
    for i, (thing, item) in enumerate(zip(built, items, strict=True)):
        for name in item.get("segments", ()):
            if name not in known:
                raise ProgramError(f"{what}[{i}] ({item['id']}).segments names segment {name!r},"
                                   " which is neither an RFM segment nor in [[segments]]")
        out.append(dataclasses.replace(thing, segments=tuple(item.get("segments", ()))))
    return tuple(out)


def _punch_cards(items: list[dict]) -> tuple[PunchCard, ...]:
    _unique(items, "punch_cards")
    for i, c in enumerate(items):
        if not (c.get("skus") or c.get("categories")):
            raise ProgramError(f"punch_cards[{i}] ({c['id']}): name the skus or categories it"
                               " counts")
    return tuple(PunchCard(c["id"], c.get("name", c["id"]), c["every"], c["bonus_points"],
                           tuple(c.get("skus", ())), tuple(c.get("categories", ())))
                 for c in items)


def _date(text: str | None, where: str) -> dt.date | None:
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ProgramError(f"{where} {text!r} is not a date (YYYY-MM-DD)") from None


def _review_day(text: str | None) -> tuple[int, int] | None:
    """tier_review "MM-DD" as (month, day); 29 February is refused: most years lack it."""
    if text is None:
        return None
    if text == "02-29":
        raise ProgramError("tier_review: '02-29' is not in every year; choose '02-28' or '03-01'")
    if re.fullmatch(r"[0-9]{2}-[0-9]{2}", text):
        month, day = int(text[:2]), int(text[3:])
        try:
            dt.date(2001, month, day)  # any year without a 29 February
            return month, day
        except ValueError:
            pass
    raise ProgramError(f"tier_review: expected MM-DD, got {text!r}")


def _hours(text: str | None, where: str) -> tuple[dt.time, dt.time] | None:
    if text is None:
        return None
    try:
        start, end = (dt.time.fromisoformat(t) for t in text.split("-"))
    except ValueError:
        raise ProgramError(f"{where}.hours {text!r} is not HH:MM-HH:MM") from None
    if end <= start:
        raise ProgramError(f"{where}.hours {text!r}: the end must be after the start "
                           "(split a window over midnight into two promotions)")
    return start, end
