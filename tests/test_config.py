"""Config errors are named clearly: unknown key, wrong type, missing value, bad TOML, bad range."""

import subprocess
import sys
import tomllib

import pytest

from kiosk.config import ConfigError, example, load, validate

MINIMAL = '[kiosk]\nstore = "s-1"\nlane = "l-1"\nid = "k-1"\n'


def write(tmp_path, text):
    path = tmp_path / "kiosk.toml"
    path.write_text(text)
    return path


def test_example_passes_the_check():
    cfg = validate(tomllib.loads(example()), "example")
    assert cfg["kiosk"]["store"] == "store-1"
    assert cfg["outbox"]["path"].endswith("outbox.db")


def test_defaults_fill_missing_sections(tmp_path):
    cfg = load(write(tmp_path, MINIMAL))
    assert cfg["broker"]["port"] == 1883
    assert cfg["reader"]["driver"] == "sim"


@pytest.mark.parametrize("extra, words", [
    ('[broker]\nprot = 1884\n', ["broker.prot", "did you mean 'port'", "kiosk.toml"]),
    ('[brokr]\n', ["unknown section [brokr]", "did you mean 'broker'"]),
    ('[broker]\nport = "1883"\n', ["broker.port", "'1883'", "an integer"]),
    ('[broker]\nport = 70000\n', ["broker.port", "out of range"]),
    ('[broker]\ntls = 1\n', ["broker.tls", "true/false"]),
    ('[reader]\ndriver = "acr"\n', ["reader.driver", "one of 'sim', 'nfcpy', 'pcsc', 'none'"]),
    ('[outbox]\ninflight = 0\n', ["outbox.inflight", "out of range"]),
    ("[reader]\ncard_number_pattern = 'MEMBER-[0-9'\n",
     ["reader.card_number_pattern", "'MEMBER-[0-9' is not a regular expression"]),
    ("[reader]\ncard_number_pattern = '[0-9]*'\n", ["reader.card_number_pattern", "empty"]),
    ('[reader]\nndef_card_from_path = "yes"\n', ["reader.ndef_card_from_path", "true/false"]),
])
def test_each_error_names_key_file_and_allowed(tmp_path, extra, words):
    with pytest.raises(ConfigError) as err:
        load(write(tmp_path, MINIMAL + extra))
    for word in words:
        assert word in str(err.value)


def test_missing_required_value(tmp_path):
    with pytest.raises(ConfigError, match=r"kiosk\.id is missing"):
        load(write(tmp_path, '[kiosk]\nstore = "s"\nlane = "l"\n'))


def test_bad_id_pattern(tmp_path):
    with pytest.raises(ConfigError, match=r"kiosk\.store.*\[a-z0-9-\]"):
        load(write(tmp_path, '[kiosk]\nstore = "Store 1"\nlane = "l"\nid = "k"\n'))


def test_not_toml_and_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="not valid TOML"):
        load(write(tmp_path, "[kiosk\n"))
    with pytest.raises(ConfigError, match="no such config file"):
        load(tmp_path / "absent.toml")


def test_secrets_are_redacted(tmp_path):
    cfg = load(write(tmp_path, MINIMAL + '[broker]\npassword = "hunter2"\n'))
    assert cfg.redacted()["broker"]["password"] == "********"


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "kiosk.cli", *args], capture_output=True,
                          text=True, timeout=60)


def test_cli_config_check_and_example(tmp_path):
    out = run_cli("config", "example")
    assert out.returncode == 0
    good = write(tmp_path, out.stdout)
    assert run_cli("config", "check", str(good)).returncode == 0
    bad = write(tmp_path, MINIMAL + "[broker]\nport = -1\n")
    res = run_cli("config", "check", str(bad))
    assert res.returncode == 2
    assert "broker.port" in res.stderr
