"""`ledger broker-config` against a real Mosquitto started with the generated files: TLS with the
test CA, passwords, and an ACL that keeps each kiosk to its own topics and its own lane."""

import ssl
import subprocess
import sys
import threading
import time
import tomllib

import paho.mqtt.client as paho
import pytest

from ledger import broker_files as bf
from mqtt import topics
from simulation.local_broker import free_port, mosquitto_binary
from simulation.scenario import wait_for

K1, K2 = "kiosk.store-1.kiosk-1", "kiosk.store-1.kiosk-2"


def ledger_cli(*args):
    return subprocess.run([sys.executable, "-m", "ledger.cli", *args], capture_output=True,
                          text=True, timeout=60)


@pytest.fixture(scope="module")
def secured(tmp_path_factory):
    d = tmp_path_factory.mktemp("secured")
    tls_port, local_port = free_port(), free_port()
    out = ledger_cli("broker-config", "--out", str(d), "--kiosk", "store-1/lane-1/kiosk-1",
                     "--kiosk", "store-1/lane-2/kiosk-2", "--pos", "store-1/lane-2",
                     "--ledger-worker", "a", "--ledger-worker", "b", "--tls-port", str(tls_port), "--local-port", str(local_port),
                     "--persistence-dir", str(d), "--run-as", "root")
    assert out.returncode == 0, out.stderr
    creds = tomllib.loads((d / "credentials.toml").read_text())["accounts"]
    log = open(d / "mosquitto.log", "wb")
    proc = subprocess.Popen([mosquitto_binary(), "-c", str(d / "mosquitto.conf")], stdout=log,
                            stderr=subprocess.STDOUT)
    time.sleep(0.3)
    assert proc.poll() is None, (d / "mosquitto.log").read_text()
    yield {"dir": d, "tls": tls_port, "local": local_port,
           "pw": {u: v["password"] for u, v in creds.items()}}
    proc.terminate()
    proc.wait(10)
    log.close()


class Client:
    """A paho client that records its CONNACK, SUBACKs and messages."""

    def __init__(self, port, user, password, ca=None, client_id=None):
        self.messages: list[tuple[str, bytes]] = []
        self.connack = None
        self.disconnects: list = []  # reason codes: "Session taken over" when kicked
        self.subacks: list[list] = []
        self.done = threading.Event()
        self.c = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id=client_id or user,
                             protocol=paho.MQTTv5)
        self.c.username_pw_set(user, password)
        if ca:
            self.c.tls_set(ca_certs=str(ca), tls_version=ssl.PROTOCOL_TLS_CLIENT)
        self.c.on_connect = self._on_connect
        self.c.on_disconnect = lambda c, u, flags, rc, p: self.disconnects.append(rc)
        self.c.on_subscribe = lambda c, u, mid, rcs, p: self.subacks.append(rcs)
        self.c.on_message = lambda c, u, m: self.messages.append((m.topic, m.payload))
        self.port = port

    def _on_connect(self, c, u, flags, rc, props):
        self.connack = rc
        self.done.set()

    def connect(self):
        self.c.reconnect_delay_set(60, 60)  # a kicked client stays out, so the test sees it
        self.c.connect("localhost", self.port, 30)
        self.c.loop_start()
        self.done.wait(10)
        return self

    @property
    def accepted(self):
        return self.connack is not None and not self.connack.is_failure

    def close(self):
        self.c.disconnect()
        self.c.loop_stop()


@pytest.fixture
def clients():
    made = []

    def make(*args, **kw):
        c = Client(*args, **kw).connect()
        made.append(c)
        return c
    yield make
    for c in made:
        c.close()


def test_password_file_uses_mosquittos_pbkdf2_format():
    line = bf.password_hash("secret", salt=b"\0" * 12)
    assert line.startswith("$7$101$AAAAAAAAAAAAAAAA$") and len(line.split("$")[-1]) == 88


def test_wrong_password_is_refused(secured, clients):
    ca = secured["dir"] / "ca.crt"
    bad = clients(secured["tls"], K1, "not-the-password", ca=ca)
    assert bad.connack is not None and bad.connack.is_failure, bad.connack
    good = clients(secured["tls"], K1, secured["pw"][K1], ca=ca)
    assert good.accepted, good.connack


def test_tls_needs_the_test_ca(secured, tmp_path):
    other_ca, _ = bf.make_ca("someone else's CA")
    (tmp_path / "other.crt").write_bytes(other_ca)
    c = Client(secured["tls"], K1, secured["pw"][K1], ca=tmp_path / "other.crt")
    with pytest.raises(ssl.SSLError):
        c.c.connect("localhost", secured["tls"], 30)


def test_kiosk_cannot_publish_another_kiosks_ops(secured, clients):
    ca = secured["dir"] / "ca.crt"
    ledger = clients(secured["local"], "ledger", secured["pw"]["ledger"], client_id="ledger-acl")
    ledger.c.subscribe(topics.shared(topics.ALL_OPS), 1)
    assert wait_for(lambda: ledger.subacks, 5)
    k1 = clients(secured["tls"], K1, secured["pw"][K1], ca=ca)
    k1.c.publish(topics.ops("store-1", "kiosk-2"), b'{"forged": true}', qos=1).wait_for_publish(5)
    k1.c.publish(topics.ops("store-1", "kiosk-1"), b'{"own": true}', qos=1).wait_for_publish(5)
    assert wait_for(lambda: ledger.messages, 5)
    time.sleep(0.5)
    assert [t for t, _ in ledger.messages] == [topics.ops("store-1", "kiosk-1")]


def test_kiosk_cannot_read_another_lanes_basket(secured, clients):
    ca = secured["dir"] / "ca.crt"
    pos2 = clients(secured["tls"], "pos.store-1.lane-2", secured["pw"]["pos.store-1.lane-2"], ca=ca)
    pos2.c.publish(topics.basket("store-1", "lane-2"), b'{"basket": 2}', qos=1,
                   retain=True).wait_for_publish(5)
    k1 = clients(secured["tls"], K1, secured["pw"][K1], ca=ca)
    k1.c.subscribe(topics.basket("store-1", "lane-2"), 1)
    k2 = clients(secured["tls"], K2, secured["pw"][K2], ca=ca)
    k2.c.subscribe(topics.basket("store-1", "lane-2"), 1)
    assert wait_for(lambda: k2.messages, 5)  # the lane's own kiosk gets the retained basket
    time.sleep(0.5)
    # Mosquitto 2.0 grants the subscription but delivers nothing the ACL does not allow.
    assert k1.subacks and k1.messages == []


def test_kiosk_link_over_tls_takes_a_burst_of_acks(secured, clients):
    """MqttLink's read-ahead socket (mqtt/paho_tuned.py) over TLS: decrypted bytes it has not
    handed out yet must be handled at once, like a plain socket's."""
    from mqtt.client import MqttLink, TlsOptions

    got: list[bytes] = []
    k1 = MqttLink(host="localhost", port=secured["tls"], client_id=K1, username=K1,
                  password=secured["pw"][K1], clean_start=True,
                  tls=TlsOptions(ca_file=str(secured["dir"] / "ca.crt")),
                  on_message=lambda m: got.append(m.payload))
    k1.subscribe(topics.acks("store-1", "kiosk-1"), 1)
    k1.start()
    assert k1.subscribed.wait(10)
    ledger = clients(secured["local"], "ledger", secured["pw"]["ledger"], client_id="ledger-tls")
    infos = [ledger.c.publish(topics.acks("store-1", "kiosk-1"), b"ack-%d" % i, qos=1)
             for i in range(1000)]
    for info in infos:
        info.wait_for_publish(10)
    assert wait_for(lambda: len(got) >= 1000, 20), len(got)
    assert got == [b"ack-%d" % i for i in range(1000)]
    k1.stop()


def test_a_kiosk_credential_cannot_take_over_the_ledgers_or_another_kiosks_session(secured,
                                                                                    clients):
    """The client ids the programs use: `ledger serve` ledger-main (local listener), the kiosk
    kiosk-STORE-ID over TLS. A stolen kiosk-1 password tries both."""
    ca = secured["dir"] / "ca.crt"
    ledger = clients(secured["local"], "ledger", secured["pw"]["ledger"], client_id="ledger-main")
    ledger.c.subscribe(topics.shared(topics.ALL_OPS), 1)
    k2 = clients(secured["tls"], K2, secured["pw"][K2], ca=ca, client_id="kiosk-store-1-kiosk-2")
    assert wait_for(lambda: ledger.subacks, 5) and ledger.accepted and k2.accepted
    for stolen_id in ("ledger-main", "kiosk-store-1-kiosk-2"):
        thief = clients(secured["tls"], K1, secured["pw"][K1], ca=ca, client_id=stolen_id)
        assert thief.accepted, thief.connack  # let in, under its own name
    time.sleep(1.0)
    assert ledger.disconnects == [] and k2.disconnects == []
    k2.c.publish(topics.ops("store-1", "kiosk-2"), b'{"still": "here"}', qos=1).wait_for_publish(5)
    assert wait_for(lambda: ledger.messages, 5)  # the ledger's session is its own still


def test_ledger_workers_over_tls_each_have_an_account_and_share_the_ops(secured, clients):
    ca = secured["dir"] / "ca.crt"
    workers = [clients(secured["tls"], f"ledger.{w}", secured["pw"][f"ledger.{w}"], ca=ca,
                       client_id=f"ledger-{w}") for w in ("a", "b")]
    for w in workers:
        w.c.subscribe(topics.shared(topics.ALL_OPS), 1)
    assert wait_for(lambda: all(w.subacks for w in workers), 5)
    k1 = clients(secured["tls"], K1, secured["pw"][K1], ca=ca)
    for i in range(20):
        k1.c.publish(topics.ops("store-1", "kiosk-1"), b"op-%d" % i, qos=1).wait_for_publish(5)
    assert wait_for(lambda: sum(len(w.messages) for w in workers) == 20, 10)
    assert all(w.messages for w in workers) and all(w.disconnects == [] for w in workers)


def test_packaged_service_starts_the_generated_config(tmp_path):
    """As Debian's mosquitto.service does: root runs `mosquitto -c CONFIG`, which drops to
    `user mosquitto` before it reads the password file and the TLS key."""
    import os
    import pwd
    import shutil
    import tempfile

    if os.geteuid() != 0:
        pytest.skip("needs root, as the packaged service runs")
    try:
        broker_user = pwd.getpwnam("mosquitto")
    except KeyError:
        pytest.skip("no mosquitto user (the Debian package makes it)")
    d = tempfile.mkdtemp(prefix="broker-service-")  # pytest's tmp_path is closed to other users
    try:
        os.chmod(d, 0o755)
        state = os.path.join(d, "state")
        os.mkdir(state)
        os.chown(state, broker_user.pw_uid, broker_user.pw_gid)  # as /var/lib/mosquitto is
        port = free_port()
        out = ledger_cli("broker-config", "--out", d, "--kiosk", "store-1/lane-1/kiosk-1",
                         "--tls-port", str(port), "--local-port", "0", "--persistence-dir", state)
        assert out.returncode == 0, out.stderr
        for name in ("passwd", "server.key"):
            st = os.stat(os.path.join(d, name))
            assert (st.st_gid, st.st_mode & 0o777) == (broker_user.pw_gid, 0o640), name
        log = tmp_path / "mosquitto.log"
        with open(log, "wb") as logf:
            proc = subprocess.Popen([mosquitto_binary(), "-c", os.path.join(d, "mosquitto.conf")],
                                    stdout=logf, stderr=subprocess.STDOUT)
        try:
            time.sleep(0.5)
            assert proc.poll() is None, log.read_text()
            creds = tomllib.loads(open(os.path.join(d, "credentials.toml")).read())["accounts"]
            k1 = Client(port, K1, creds[K1]["password"], ca=os.path.join(d, "ca.crt")).connect()
            assert k1.accepted, (k1.connack, log.read_text())
            k1.close()
        finally:
            proc.terminate()
            proc.wait(10)
    finally:
        shutil.rmtree(d)
