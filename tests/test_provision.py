"""Provisioning end to end: flags or a signed code -> config -> `kiosk doctor` passes against a
real broker and `ledger serve`; bad answers and badly signed codes are refused with a reason."""

import os
import subprocess
import sys
import tomllib

import pytest

from codes.keys import load_private, new_private_pem
from codes.provisioning import CodeRefused, sign, verify
from kiosk.config import load
from simulation.local_broker import free_port, mosquitto_binary
from simulation.scenario import LedgerProcess, wait_for


def run(prog, *args, stdin=None):
    return subprocess.run([sys.executable, "-m", f"{prog}.cli", *args], capture_output=True,
                          text=True, timeout=120, input=stdin)


def sim_flags(tmp_path):
    return ["--reader", "sim", "--qr", "sim", "--display", "dummy", "--gpio", "mock",
            "--outbox", str(tmp_path / "state" / "outbox.db"), "--no-input"]


def doctor_lines(conf):
    out = run("kiosk", "doctor", "--config", str(conf))
    lines = {ln.split(":")[0].split()[-1]: ln for ln in out.stdout.splitlines() if ln.strip()}
    return out, lines


def assert_doctor_passes(conf):
    out, lines = doctor_lines(conf)
    assert not [ln for ln in lines.values() if ln.startswith("FAIL")], out.stdout + out.stderr
    for name in ("config", "broker", "ledger", "outbox", "reader", "display", "gpio"):
        assert lines[name].startswith("OK"), lines
    # The exit status is the verdict: 0 only when no line warns (the clock may not be synced here).
    warns = [ln for ln in lines.values() if ln.startswith("WARN")]
    assert out.returncode == (1 if warns else 0), out.stdout


def test_flags_to_config_to_doctor(broker, tmp_path):
    ledger = LedgerProcess(tmp_path / "ledger.db", broker, tmp_path / "ledger.log")
    ledger.cli("members")
    ledger.start()
    try:
        conf = tmp_path / "etc" / "kiosk.toml"
        out = run("kiosk", "provision", "--store", "store-1", "--lane", "lane-1", "--id", "kiosk-1",
                  "--broker", f"127.0.0.1:{broker.port}", "--output", str(conf),
                  *sim_flags(tmp_path))
        assert out.returncode == 0, out.stderr
        assert run("kiosk", "config", "check", str(conf)).returncode == 0
        assert oct(conf.stat().st_mode & 0o777) == "0o640"
        assert_doctor_passes(conf)
        ledger.stop()
        _, lines = doctor_lines(conf)
        assert lines["ledger"].startswith("FAIL") and "ledger serve" in lines["ledger"]
    finally:
        ledger.stop()


@pytest.fixture
def secured(tmp_path):
    """A broker made by `ledger broker-config` (TLS + passwords + ACL) and a ledger on it."""
    d = tmp_path / "broker"
    tls, local = free_port(), free_port()
    out = run("ledger", "broker-config", "--out", str(d), "--kiosk", "store-1/lane-1/kiosk-1",
              "--tls-port", str(tls), "--local-port", str(local), "--persistence-dir", str(d),
              "--run-as", "root")
    assert out.returncode == 0, out.stderr
    log = open(tmp_path / "mosquitto.log", "wb")
    broker = subprocess.Popen([mosquitto_binary(), "-c", str(d / "mosquitto.conf")], stdout=log,
                              stderr=subprocess.STDOUT)
    creds = tomllib.loads((d / "credentials.toml").read_text())["accounts"]
    led_log = tmp_path / "ledger.log"
    run("ledger", "members", "--db", str(tmp_path / "ledger.db"))
    ledger = subprocess.Popen(
        [sys.executable, "-m", "ledger.cli", "serve", "--db", str(tmp_path / "ledger.db"),
         "--host", "127.0.0.1", "--port", str(local), "--username", "ledger"],
        env={**os.environ, "LEDGER_MQTT_PASSWORD": creds["ledger"]["password"]},
        stdout=open(led_log, "wb"), stderr=subprocess.STDOUT)
    try:
        assert wait_for(lambda: b"ledger ready" in led_log.read_bytes(), 20), led_log.read_text()
        yield {"dir": d, "tls": tls}
    finally:
        for p in (ledger, broker):
            p.terminate()
            p.wait(10)
        log.close()


def test_signed_code_provisions_a_kiosk_on_a_secured_broker(secured, tmp_path):
    key_file = tmp_path / "provision.pem"
    made = run("ledger", "provision-code", "--new-key", str(key_file))
    public = made.stdout.strip()
    d = secured["dir"]
    code = run("ledger", "provision-code", "--key", str(key_file), "--store", "store-1",
               "--lane", "lane-1", "--id", "kiosk-1", "--broker", f"localhost:{secured['tls']}",
               "--tls", "--ca-file", str(d / "ca.crt"), "--credentials", str(d / "credentials.toml"),
               "--reader", "sim", "--display", "dummy", "--gpio", "mock", "--png",
               str(tmp_path / "code.png"))
    assert code.returncode == 0, code.stderr
    assert (tmp_path / "code.png").stat().st_size > 0
    conf = tmp_path / "etc" / "kiosk.toml"
    # The code read from stdin, as a HID scanner types it.
    out = run("kiosk", "provision", "--code", "-", f"--trust-key={public}", "--output", str(conf),
              "--qr", "sim", "--outbox", str(tmp_path / "state" / "outbox.db"), "--no-input",
              stdin=code.stdout)
    assert out.returncode == 0, out.stderr
    cfg = load(conf)
    assert cfg["broker"]["tls"] and cfg["broker"]["username"] == "kiosk.store-1.kiosk-1"
    assert (tmp_path / "etc" / "ca.crt").exists()
    assert_doctor_passes(conf)
    # A wrong password is a FAIL naming what to check, and the exit status says so.
    conf.write_text(conf.read_text().replace(cfg["broker"]["password"], "wrong-password"))
    out, lines = doctor_lines(conf)
    assert out.returncode == 2 and lines["broker"].startswith("FAIL"), out.stdout
    assert "password" in lines["broker"]


BAD_ANSWERS = [
    (["--store", "Store 1"], "store"),
    (["--id", "kiosk_1"], "id"),
    (["--broker", "mqtt://broker"], "host"),
    (["--broker", "broker:99999"], "port"),
    (["--broker", "broker.example:1883", "--username", "k", "--password-file", "PW"], "in clear"),
    (["--tls", "--broker", "broker.example"], "CA certificate"),
    (["--tls", "--broker", "broker.example", "--ca-file", "/nonexistent/ca.crt"], "cannot read"),
    (["--reader", "nfcpy", "--reader-path", "usb:acr122"], "nfcpy path"),
    (["--qr", "hid"], "device"),
    (["--pin", "led_red=5"], "GPIO 5"),
    (["--display", "lcd"], "display.driver"),
    (["--language", "fr"], "language"),
]


@pytest.mark.parametrize("flags,reason", BAD_ANSWERS, ids=[r for _, r in BAD_ANSWERS])
def test_bad_answers_are_refused_with_a_reason(tmp_path, flags, reason):
    (tmp_path / "PW").write_text("secret\n")
    base = {"--store": "store-1", "--lane": "lane-1", "--id": "kiosk-1", "--broker": "localhost"}
    for flag in flags:
        base.pop(flag, None)
    flags = [str(tmp_path / "PW") if f == "PW" else f for f in flags]
    conf = tmp_path / "kiosk.toml"
    # The bad answer comes last, so it overrides the good default (argparse: last one wins).
    args = [x for kv in base.items() for x in kv] + sim_flags(tmp_path) + flags
    out = run("kiosk", "provision", *args, "--output", str(conf))
    assert out.returncode == 2, out.stdout + out.stderr
    assert out.stderr.startswith("refused:") and reason in out.stderr, out.stderr
    assert not conf.exists()


def test_existing_config_is_kept_without_force(tmp_path):
    conf = tmp_path / "kiosk.toml"
    conf.write_text("keep me")
    out = run("kiosk", "provision", "--store", "s", "--lane", "l", "--id", "k", "--broker",
              "localhost", "--output", str(conf), *sim_flags(tmp_path))
    assert out.returncode == 2 and "--force" in out.stderr
    assert conf.read_text() == "keep me"


def test_badly_signed_codes_are_refused(tmp_path):
    trusted_pem, trusted = new_private_pem()
    other_pem, _ = new_private_pem()
    (tmp_path / "t.pem").write_bytes(trusted_pem)
    (tmp_path / "o.pem").write_bytes(other_pem)
    answers = {"store": "store-1", "lane": "lane-1", "id": "kiosk-1", "host": "localhost"}
    good = sign(load_private(tmp_path / "t.pem"), answers)
    assert verify(good, [trusted])["id"] == "kiosk-1"
    forged = sign(load_private(tmp_path / "o.pem"), answers)
    head, payload, sig = good.split(".")
    tampered_body = sign(load_private(tmp_path / "t.pem"), {**answers, "id": "kiosk-9"})
    tampered = f"{head}.{tampered_body.split('.')[1]}.{sig}"  # another payload, the old signature
    expired = sign(load_private(tmp_path / "t.pem"), answers, valid_s=-10)
    cases = {forged: "bad signature", tampered: "bad signature", expired: "expired",
             "lkp1.bm90LWEtY29kZQ": "not a provisioning code"}
    conf = tmp_path / "kiosk.toml"
    for code, reason in cases.items():
        with pytest.raises(CodeRefused, match=reason):
            verify(code, [trusted])
        out = run("kiosk", "provision", "--code", code, f"--trust-key={trusted}", "--output",
                  str(conf), *sim_flags(tmp_path))
        assert out.returncode == 3 and reason in out.stderr, out.stderr
        assert not conf.exists()
    with pytest.raises(CodeRefused, match="no trusted"):
        verify(good, [])


def test_prompts_ask_again_after_a_refused_answer(monkeypatch, capsys):
    from kiosk.commands.provision import prompt
    from kiosk.provision import Answers

    typed = iter(["Store 1", "store-1", "lane-1", "kiosk_1", "kiosk-1", "mqtt://b", "b:0",
                  "broker.example:8883"])
    monkeypatch.setattr("builtins.input", lambda label: next(typed))  # a technician typing
    a = Answers(username="k")  # credentials are checked later, not at the host prompt
    prompt(a)
    assert (a.store, a.lane, a.id, a.host, a.port) == ("store-1", "lane-1", "kiosk-1",
                                                       "broker.example", 8883)
    refusals = [ln for ln in capsys.readouterr().out.splitlines() if "refused" in ln]
    assert len(refusals) == 4, refusals


def test_code_scanned_by_the_camera_provisions(tmp_path):
    """The zero-touch path: the code's QR in front of the camera (a recorded clip here: OpenCV
    reads a video file through the same code path as a V4L2 camera)."""
    import cv2

    from tests.qr_images import frame, qr_image

    pem, public = new_private_pem()
    (tmp_path / "p.pem").write_bytes(pem)
    code = sign(load_private(tmp_path / "p.pem"),
                {"store": "store-1", "lane": "lane-1", "id": "kiosk-7", "host": "localhost",
                 "reader": "sim", "display": "dummy", "gpio": "mock"})
    member_code = qr_image("lk1.c.loyalty.ada.1." + "A" * 86, 3)  # not a provisioning code
    size = (1280, 720)
    clip = cv2.VideoWriter(str(tmp_path / "scan.avi"), cv2.VideoWriter_fourcc(*"MJPG"), 10, size)
    for f in [frame([], size=size)] * 2 + [frame([(member_code, (40, 40))], size=size)] * 2 + \
            [frame([(qr_image(code, 4), (300, 40))], size=size)] * 3:
        clip.write(cv2.cvtColor(f, cv2.COLOR_GRAY2BGR))
    clip.release()
    conf = tmp_path / "kiosk.toml"
    out = run("kiosk", "provision", "--scan", "--qr-device", str(tmp_path / "scan.avi"),
              f"--trust-key={public}", "--output", str(conf), "--qr", "sim", "--outbox",
              str(tmp_path / "outbox.db"), "--no-input")
    assert out.returncode == 0, out.stderr
    assert load(conf)["kiosk"]["id"] == "kiosk-7"


def test_an_image_scanned_for_the_code_does_not_become_the_camera(tmp_path):
    """`--scan --qr-device code.png`: the photo of the code is where the code is read from, not
    the kiosk's camera (OpenCV reads the PNG through the same path as a camera)."""
    from PIL import Image

    from tests.qr_images import frame, qr_image

    pem, public = new_private_pem()
    (tmp_path / "p.pem").write_bytes(pem)
    code = sign(load_private(tmp_path / "p.pem"),
                {"store": "store-1", "lane": "lane-1", "id": "kiosk-8", "host": "localhost",
                 "reader": "sim", "display": "dummy", "gpio": "mock"})
    Image.fromarray(frame([(qr_image(code, 4), (300, 40))], size=(1280, 720))).save(
        tmp_path / "code.png")
    conf = tmp_path / "kiosk.toml"
    out = run("kiosk", "provision", "--scan", "--qr-device", str(tmp_path / "code.png"),
              f"--trust-key={public}", "--output", str(conf), "--qr", "camera", "--outbox",
              str(tmp_path / "outbox.db"), "--no-input")
    assert out.returncode == 0, out.stderr
    cfg = load(conf)
    assert cfg["kiosk"]["id"] == "kiosk-8" and cfg["qr"]["driver"] == "camera"
    assert cfg["qr"]["device"] == ""  # the Pi camera, not code.png
    assert "code.png" not in conf.read_text()
    assert "it is not the kiosk's QR device" in out.stderr
