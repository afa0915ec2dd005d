"""Signed remote config updates, and the fall-back when the new config cannot reach the broker.

The ledger publishes (retained, QoS 1) on ``loyalty/v1/stores/S/kiosks/K/config`` one line
``lkc1.<payload>.<signature>``: the payload names the store and kiosk, a serial that only
rises, an expiry, and ``set``: the keys to change. The provisioned /etc/kiosk/kiosk.toml is never
rewritten (the service cannot write /etc); overrides live in the state directory:

- a valid update is saved as *pending* and the daemon exits with EXIT_RESTART, so systemd
  (Restart=on-failure) starts it again with the new settings;
- a daemon started with a pending update confirms it once it reaches the broker within
  ``remote.confirm_s``; otherwise it drops the update (back to the last confirmed settings),
  remembers its serial as refused so the retained message is not applied again, and restarts.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
import tomllib
from pathlib import Path

from codes.config_update import DOMAIN, VERSION
from codes.provisioning import CodeRefused, unseal
from kiosk.config import Config, ConfigError, validate
from mqtt import topics

log = logging.getLogger(__name__)

EXIT_RESTART = 75  # EX_TEMPFAIL: systemd's Restart=on-failure starts us again
FIXED = {("kiosk", "store"), ("kiosk", "lane"), ("kiosk", "id"), ("outbox", "path")}


def topic(store: str, kiosk: str) -> str:
    return topics.config(store, kiosk)


class RemoteState:
    """``remote.json`` in the state directory: confirmed and pending overrides, refused serial."""

    def __init__(self, state_dir: str | Path) -> None:
        self.path = Path(state_dir) / "remote.json"
        try:
            self.data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            self.data = {}
        self.data = {"confirmed": self.data.get("confirmed"), "pending": self.data.get("pending"),
                     "refused": int(self.data.get("refused") or 0)}

    def highest_serial(self) -> int:
        return max([self.data["refused"]] + [u["serial"] for u in
                                             (self.data["confirmed"], self.data["pending"]) if u])

    def active(self) -> dict | None:
        return self.data["pending"] or self.data["confirmed"]

    def save(self) -> None:
        tmp = self.path.with_name("remote.json.tmp")
        tmp.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(json.dumps(self.data), encoding="utf-8")
        os.replace(tmp, self.path)


def _merge(data: dict, settings: dict) -> dict:
    out = {s: dict(v) for s, v in data.items()}
    for section, values in settings.items():
        out.setdefault(section, {}).update(values)
    return out


def state_dir(cfg: Config) -> Path:
    return Path(cfg["outbox"]["path"]).parent


def load_effective(path: str | Path, base: Config) -> Config:
    """The provisioned config with the pending or confirmed remote overrides on top."""
    state = RemoteState(state_dir(base))
    update = state.active()
    if not update:
        return base
    data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    try:
        cfg = validate(_merge(data, update["set"]), f"{path} + remote config {update['serial']}")
    except ConfigError as exc:
        log.error("remote config %s no longer valid, ignored: %s", update["serial"], exc)
        return base
    cfg.path = str(path)
    log.info("remote config %s (%s) in effect", update["serial"],
             "pending" if update is state.data["pending"] else "confirmed")
    return cfg


def check_update(text: str, cfg: Config, path: str | Path, state: RemoteState) -> dict:
    """The update's body when it may be applied here; CodeRefused says why not."""
    body = unseal(text, VERSION, DOMAIN, cfg["remote"]["keys"], "config update")
    k = cfg["kiosk"]
    if (body.get("store"), body.get("kiosk")) != (k["store"], k["id"]):
        raise CodeRefused(f"update is for {body.get('store')}/{body.get('kiosk')}, not this kiosk")
    if not isinstance(body.get("serial"), int) or body["serial"] <= state.highest_serial():
        raise CodeRefused(f"serial {body.get('serial')} is not newer than {state.highest_serial()}")
    if time.time() > body["exp"]:
        raise CodeRefused("update expired")
    settings = body.get("set")
    if not isinstance(settings, dict) or not all(isinstance(v, dict) for v in settings.values()):
        raise CodeRefused("'set' must map sections to {key: value}")
    fixed = [f"{s}.{key}" for s, v in settings.items() for key in v
             if (s, key) in FIXED or s == "remote"]
    if fixed:
        raise CodeRefused(f"{', '.join(fixed)} cannot be changed remotely")
    data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    confirmed = state.data["confirmed"]
    merged = _merge(_merge(data, confirmed["set"]) if confirmed else data, settings)
    try:
        validate(merged, f"config update {body['serial']}")
    except ConfigError as exc:
        raise CodeRefused(str(exc)) from None
    if confirmed:
        body["set"] = _merge(confirmed["set"], settings)  # updates add up
    return body


class RemoteConfig:
    """The daemon's side: take updates from the broker, confirm or fall back after a restart."""

    def __init__(self, app, path: str | Path) -> None:
        self.app, self.path = app, Path(path)
        self.state = RemoteState(state_dir(app.cfg))
        k = app.cfg["kiosk"]
        self.topic = topic(k["store"], k["id"])

    def attach(self) -> None:
        self.app.topic_handlers[self.topic] = self.on_message
        self.app.link.subscribe(self.topic, 1)
        if self.state.data["pending"]:
            threading.Thread(target=self._confirm, name="remote-config", daemon=True).start()

    def on_message(self, msg) -> None:
        """paho's thread: a valid update is saved as pending and the daemon restarts."""
        if not msg.payload:
            return None  # cleared
        if self.state.data["pending"]:
            log.info("config update message ignored: update %s is still being tried",
                     self.state.data["pending"]["serial"])
            return None
        try:
            text = msg.payload.decode("ascii")
            body = check_update(text, self.app.cfg, self.path, self.state)
        except (CodeRefused, UnicodeDecodeError, OSError, tomllib.TOMLDecodeError) as exc:
            log.warning("config update refused: %s", exc)
            return None
        self.state.data["pending"] = {"serial": body["serial"], "set": body["set"]}
        self.state.save()
        log.info("config update %s saved; restarting to apply it", body["serial"])
        self._restart()
        return None

    def _confirm(self) -> None:
        pending = self.state.data["pending"]
        wait = self.app.cfg["remote"]["confirm_s"]
        if self.app.link.wait_connected(wait):
            self.state.data.update(confirmed=pending, pending=None)
            self.state.save()
            log.info("config update %s confirmed: the broker is reachable with it", pending["serial"])
            return
        self.state.data.update(pending=None, refused=pending["serial"])
        self.state.save()
        log.error("config update %s could not reach the broker in %ss: falling back",
                  pending["serial"], wait)
        self._restart()

    def _restart(self) -> None:
        from kiosk import events as e

        self.app.exit_code = EXIT_RESTART
        self.app.events.put(e.Stop())
