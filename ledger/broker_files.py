"""Files for a Mosquitto broker serving kiosks and the ledger: TLS, passwords, ACL, config.

What `ledger broker-config` writes. Each kiosk gets its own account and may publish only
under its own topics and read only its lane's basket, its own acks and lookup replies;
each POS account only its lane; the ledger's account only what the ledger service does.
Passwords are stored in Mosquitto's own PBKDF2-SHA512 format (``$7$``), which is what
``mosquitto_passwd`` writes, so no broker binary is needed where this runs.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import ipaddress
import secrets
from dataclasses import dataclass
from pathlib import Path

from mqtt import topics

LEDGER_USER = "ledger"
PBKDF2_ITERATIONS = 101  # mosquitto_passwd's own choice; Mosquitto reads it from the file
SALT_BYTES = 12


@dataclass(frozen=True)
class KioskAccount:
    store: str
    lane: str
    kiosk: str

    @property
    def user(self) -> str:
        # '.' cannot occur in an id, so the name is unambiguous.
        return f"kiosk.{self.store}.{self.kiosk}"


@dataclass(frozen=True)
class PosAccount:
    store: str
    lane: str

    @property
    def user(self) -> str:
        return f"pos.{self.store}.{self.lane}"


def parse_kiosk(text: str) -> KioskAccount:
    parts = text.split("/")
    if len(parts) != 3 or not all(topics.ID_RE.match(p) for p in parts):
        raise ValueError(f"kiosk {text!r}: expected STORE/LANE/KIOSK, each [a-z0-9-]{{1,32}}")
    return KioskAccount(*parts)


def parse_pos(text: str) -> PosAccount:
    parts = text.split("/")
    if len(parts) != 2 or not all(topics.ID_RE.match(p) for p in parts):
        raise ValueError(f"POS {text!r}: expected STORE/LANE, each [a-z0-9-]{{1,32}}")
    return PosAccount(*parts)


# -- passwords ---------------------------------------------------------------------------
def password_hash(password: str, salt: bytes | None = None) -> str:
    """Mosquitto's ``$7$`` line value: PBKDF2-HMAC-SHA512, base64 salt and hash."""
    salt = salt if salt is not None else secrets.token_bytes(SALT_BYTES)
    digest = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, PBKDF2_ITERATIONS)
    b64 = base64.b64encode
    return f"$7${PBKDF2_ITERATIONS}${b64(salt).decode()}${b64(digest).decode()}"


def new_password() -> str:
    return secrets.token_urlsafe(18)


def password_file(passwords: dict[str, str]) -> str:
    return "".join(f"{user}:{password_hash(pw)}\n" for user, pw in sorted(passwords.items()))


def ledger_worker_user(worker: str) -> str:
    """A ledger worker's own account, for a worker that reaches the broker over TLS: there
    the client id is the username, so two workers need two accounts."""
    return f"{LEDGER_USER}.{worker}"


# -- ACL ------------------------------------------------------------------------------------
def ledger_acl(user: str = LEDGER_USER) -> list[str]:
    any_kiosk = f"{topics.ROOT}/stores/+/kiosks/+"
    return [f"user {user}",
            f"topic read {topics.ALL_OPS}", f"topic read {topics.ALL_LOOKUPS}",
            f"topic read {topics.LOOKUP}", f"topic read {topics.ALL_RESERVES}",
            f"topic write {any_kiosk}/acks", f"topic write {any_kiosk}/lookup-reply",
            f"topic write {any_kiosk}/reserve-reply",
            f"topic write {any_kiosk}/config",
            f"topic readwrite {topics.PROGRAM}", f"topic readwrite {topics.CAPABILITIES}",
            f"topic read {topics.ALL_STATUS}"]


def kiosk_acl(k: KioskAccount) -> list[str]:
    return [f"user {k.user}",
            f"topic write {topics.ops(k.store, k.kiosk)}",
            f"topic readwrite {topics.status(k.store, k.kiosk)}",
            f"topic read {topics.acks(k.store, k.kiosk)}",
            f"topic read {topics.lookup_reply(k.store, k.kiosk)}",
            f"topic read {topics.ROOT}/stores/{k.store}/kiosks/{k.kiosk}/config",
            f"topic write {topics.lookup(k.store, k.kiosk)}",
            f"topic write {topics.reserve(k.store, k.kiosk)}",
            f"topic read {topics.reserve_reply(k.store, k.kiosk)}",
            f"topic read {topics.basket(k.store, k.lane)}",
            f"topic write {topics.member(k.store, k.lane)}",
            f"topic write {topics.redemption(k.store, k.lane)}",
            f"topic read {topics.refund(k.store, k.lane)}",
            f"topic write {topics.notice(k.store, k.lane)}",
            f"topic read {topics.PROGRAM}",
            f"topic read {topics.CAPABILITIES}",
            f"topic read {topics.uplink(k.store)}"]


def pos_acl(p: PosAccount) -> list[str]:
    return [f"user {p.user}",
            f"topic readwrite {topics.basket(p.store, p.lane)}",
            f"topic read {topics.member(p.store, p.lane)}",
            f"topic read {topics.redemption(p.store, p.lane)}",
            f"topic write {topics.refund(p.store, p.lane)}",
            f"topic read {topics.notice(p.store, p.lane)}"]


def acl_file(kiosks: list[KioskAccount], pos: list[PosAccount],
             ledger_workers: list[str] = ()) -> str:
    blocks = [ledger_acl()] + [ledger_acl(ledger_worker_user(w)) for w in ledger_workers]
    blocks += [kiosk_acl(k) for k in kiosks] + [pos_acl(p) for p in pos]
    head = "# Generated by `ledger broker-config`: one block per account; anything else is denied.\n"
    return head + "\n".join("\n".join(b) + "\n" for b in blocks)


# -- TLS ------------------------------------------------------------------------------------
def _name(common: str):
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])


def _pem_key(key) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def make_ca(common: str = "loyalty-kiosk broker CA", days: int = 3650) -> tuple[bytes, bytes]:
    """A CA: (certificate PEM, private key PEM). Keep the key off the broker."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(_name(common)).issuer_name(_name(common))
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(hours=1)).not_valid_after(now + dt.timedelta(days=days))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False),
                           critical=True)
            .sign(key, hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.PEM), _pem_key(key)


def make_server_cert(ca_cert_pem: bytes, ca_key_pem: bytes, hostnames: list[str],
                     days: int = 825) -> tuple[bytes, bytes]:
    """The broker's certificate for ``hostnames`` (DNS names or IP addresses), signed by the CA."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID

    ca_cert = x509.load_pem_x509_certificate(ca_cert_pem)
    ca_key = serialization.load_pem_private_key(ca_key_pem, password=None)
    key = ec.generate_private_key(ec.SECP256R1())
    names = []
    for h in hostnames:
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(h)))
        except ValueError:
            names.append(x509.DNSName(h))
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(_name(hostnames[0]))
            .issuer_name(ca_cert.subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(hours=1)).not_valid_after(now + dt.timedelta(days=days))
            .add_extension(x509.SubjectAlternativeName(names), critical=False)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .sign(ca_key, hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.PEM), _pem_key(key)


# -- mosquitto.conf ---------------------------------------------------------------------------
@dataclass(frozen=True)
class BrokerOptions:
    conf_dir: Path  # where the files live on the broker host
    tls_port: int = 8883
    local_port: int = 1883  # plain MQTT on 127.0.0.1 for a ledger on the same host; 0: none
    persistence_dir: str = "/var/lib/mosquitto"
    run_as: str = "mosquitto"
    max_queued: int = 100_000


def queue_limit(kiosks: int, ops_per_kiosk: int = 50_000) -> int:
    """Messages the broker keeps for the ledger's session while it is slow or away: room for
    every kiosk's full outbox (outbox.max_ops), so the broker never drops an op it accepted."""
    return max(100_000, kiosks * ops_per_kiosk)


def mosquitto_conf(o: BrokerOptions) -> str:
    d = o.conf_dir
    lines = ["# Generated by `ledger broker-config`. Run: mosquitto -c " + str(d / "mosquitto.conf"),
             "per_listener_settings false", "allow_anonymous false",
             f"password_file {d / 'passwd'}", f"acl_file {d / 'acl'}",
             f"user {o.run_as}",
             "# Queued QoS 1 messages survive a broker restart.",
             "persistence true", f"persistence_location {o.persistence_dir.rstrip('/')}/",
             "autosave_interval 30",
             "# Sized for the ledger's persistent session: a slow or restarting ledger must not",
             "# make the broker drop ops (each kiosk still resends until acked).",
             f"max_queued_messages {o.max_queued}", "max_queued_bytes 0",
             "max_inflight_messages 100", "persistent_client_expiration 30d",
             "max_packet_size 262144", "set_tcp_nodelay true", "",
             f"listener {o.tls_port}", f"cafile {d / 'ca.crt'}", f"certfile {d / 'server.crt'}",
             f"keyfile {d / 'server.key'}", "tls_version tlsv1.2",
             "# The client id is the username: a credential can only ever replace its own",
             "# connection, never the ledger's or another kiosk's.",
             "use_username_as_clientid true"]
    if o.local_port:
        lines += ["", "# Plain MQTT for a ledger on this host only. Client ids are the clients' own",
                  "# here, so several `ledger serve --worker` processes share the ledger account.",
                  f"listener {o.local_port} 127.0.0.1"]
    return "\n".join(lines) + "\n"
