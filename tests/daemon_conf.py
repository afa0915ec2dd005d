"""The config file tests give a `kiosk run` they start as a real process."""

from pathlib import Path


def kiosk_toml(tmp_path: Path, port: int, outbox: Path, more: str = "",
               reconnect_max: float = 1.0) -> Path:
    """Store-1/lane-1/kiosk-1 on a local broker; ``more`` continues the [outbox] section."""
    conf = tmp_path / "kiosk.toml"
    conf.write_text(f'[kiosk]\nstore = "store-1"\nlane = "lane-1"\nid = "kiosk-1"\n'
                    f'[broker]\nhost = "127.0.0.1"\nport = {port}\nreconnect_min = 0.1\n'
                    f'reconnect_max = {reconnect_max}\n[outbox]\npath = "{outbox}"\n{more}')
    return conf
