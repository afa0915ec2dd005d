"""docs/webhooks.md's verifying code, run as written: the Python function (with the reference
library) and the JavaScript one (in Node.js) accept a real delivery and refuse a forged one; and
the systemd unit the document shows verifies."""

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from ledger import webhooks
from ledger.store import LedgerStore
from ledger.webhook_runner import Runner
from tests.webhook_receiver import Receiver

REPO = Path(__file__).resolve().parent.parent
DOC = (REPO / "docs" / "webhooks.md").read_text()
UNIT = REPO / "systemd" / "loyalty-webhooks.service"


def block(language: str) -> str:
    return re.search(rf"```{language}\n(.*?)```", DOC, re.S).group(1)


@pytest.fixture
def delivery(tmp_path):
    """One real delivery (body, headers) and its endpoint's secret; the secret of another."""
    store = LedgerStore(tmp_path / "l.db")
    with Receiver() as receiver:
        _, secret = webhooks.add(store, receiver.url, [], "ana")
        store.add_member("Ada")
        Runner(store).step()
    [got] = receiver.requests
    store.close()
    return got.body, {k.lower(): v for k, v in got.headers.items()}, secret


def test_the_python_verifier_in_the_doc(delivery):
    body, headers, secret = delivery
    space: dict = {}
    exec(block("python"), space)  # noqa: S102 - the document's own code, as a reader runs it
    assert space["handle"](body, headers, secret)["type"] == "member.created"
    assert space["handle"](body, headers, webhooks.new_secret()) is None
    assert space["handle"](body.replace(b"member", b"membre"), headers, secret) is None


@pytest.mark.skipif(shutil.which("node") is None, reason="node (package nodejs) not installed")
def test_the_javascript_verifier_in_the_doc(delivery):
    body, headers, secret = delivery
    script = block("javascript") + (
        "\nconst [body, headers, secrets] = JSON.parse(require('fs').readFileSync(0, 'utf8'));"
        "\nconsole.log(JSON.stringify(secrets.map((s) => verify(body, headers, s))));")
    cases = [body.decode(), headers, [secret, webhooks.new_secret()]]
    out = subprocess.run(["node", "-e", script], input=json.dumps(cases), capture_output=True,
                         text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == [True, False]


def test_the_unit_in_the_doc_is_the_repositorys_without_the_sandboxing():
    shown = [ln for ln in block("ini").splitlines() if ln]
    unit = [ln for ln in UNIT.read_text().splitlines() if ln and not ln.startswith("#")]
    assert [ln for ln in unit if ln in shown] == shown


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze missing")
def test_the_unit_verifies(tmp_path):
    exe = tmp_path / "ledger"
    exe.write_text("#!/bin/sh\n")
    exe.chmod(0o755)
    unit = tmp_path / "loyalty-webhooks.service"
    unit.write_text(UNIT.read_text().replace("/opt/loyalty-ledger/venv/bin/ledger", str(exe)))
    out = subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 0 and "loyalty-webhooks.service" not in out.stderr, out.stderr
