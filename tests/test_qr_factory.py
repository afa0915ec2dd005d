"""The config picks the QR input; the simulated scanner verifies codes once keys are configured."""

import tomllib

import pytest

from codes import member_qr as qrcodes
from drivers import factory
from drivers.base import ReadFailed, TokenRead
from kiosk.config import example, validate
from tests.qr_support import Sink


def qr_section(**kw) -> dict:
    cfg = validate(tomllib.loads(example()), "example")
    return {**cfg["qr"], **kw}


def test_sim_with_demo_key_verifies_like_a_real_scanner():
    qr = factory.open_qr(qr_section(keys=[qrcodes.DEMO_PUBLIC_KEY]))
    sink = Sink()
    qr.start(sink)
    qr.scan(qrcodes.demo_code("ada"))
    qr.scan("\x1b]0;pwned\x07")
    ok, bad = sink.drain()
    assert isinstance(ok, TokenRead) and (ok.token.value, ok.token.verified) == ("ada", True)
    assert isinstance(bad, ReadFailed) and bad.reason == "Not a member code"


def test_sim_without_keys_passes_text_through():
    qr = factory.open_qr(qr_section())
    sink = Sink()
    qr.start(sink)
    qr.scan("member-7")
    (ev,) = sink.drain()
    assert ev.token.value == "member-7" and not ev.token.verified


@pytest.mark.parametrize("driver, cls", [("serial", "SerialQrReader"), ("camera", "CameraQrReader"),
                                         ("hid", "HidQrReader")])
def test_real_drivers_are_found_by_config(driver, cls):
    reader = factory.open_qr(qr_section(driver=driver, device="/dev/input/event0"))
    assert type(reader).__name__ == cls and reader.name.startswith("qr-")


def test_bad_key_in_config_is_named():
    with pytest.raises(ValueError, match="not 43 base64url"):
        factory.open_qr(qr_section(driver="serial", keys=["nope"]))
