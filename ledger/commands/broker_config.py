"""`ledger broker-config`: Mosquitto config, password file, ACL and TLS files for a fleet, and
the kiosk policy `ledger serve --kiosk-policy` reads (ledger.policy).

A kiosk line is ``STORE/LANE/KIOSK`` and optionally ``stores=S1,S2`` (the stores whose members
it serves; default its own), ``redeem_per_op=N`` and ``redeem_per_day=N`` (points). A line
without them is as valid as before."""

from __future__ import annotations

import os
import pwd
import sys
from pathlib import Path

# What Mosquitto reads after it drops from root to ``user``: these must be readable by it.
BROKER_READS_SECRETS = ("passwd", "server.key")


def register(subs) -> None:
    p = subs.add_parser("broker-config", help="write a Mosquitto config with TLS, passwords and ACL")
    p.add_argument("--out", required=True, help="directory to write the files to")
    p.add_argument("--conf-dir", default=None,
                   help="where the files will live on the broker host (default: --out)")
    p.add_argument("--kiosk", action="append", default=[], metavar="STORE/LANE/KIOSK",
                   help="a kiosk account (repeat)")
    p.add_argument("--kiosks", metavar="FILE",
                   help="file of kiosks, one STORE/LANE/KIOSK per line (# comments), optionally"
                   " followed by stores=S1,S2 redeem_per_op=N redeem_per_day=N")
    p.add_argument("--redeem-per-op", type=int, default=None, metavar="POINTS",
                   help="each kiosk's limit of points redeemed per op, unless its line says")
    p.add_argument("--redeem-per-day", type=int, default=None, metavar="POINTS",
                   help="each kiosk's limit of points redeemed per UTC day, unless its line says")
    p.add_argument("--pos", action="append", default=[], metavar="STORE/LANE",
                   help="a POS account for one lane (repeat)")
    p.add_argument("--ledger-worker", action="append", default=[], metavar="NAME",
                   help="an account ledger.NAME for a ledger worker that connects over TLS, where"
                   " each connection needs its own account (repeat; workers on the broker host"
                   " share the ledger account on the local listener)")
    p.add_argument("--hostname", action="append", default=[],
                   help="broker name or IP in its TLS certificate (repeat; default localhost)")
    p.add_argument("--ca-cert", help="existing CA certificate (PEM); default: make a new CA")
    p.add_argument("--ca-key", help="the existing CA's private key (PEM)")
    p.add_argument("--tls-port", type=int, default=8883)
    p.add_argument("--local-port", type=int, default=1883,
                   help="plain MQTT on 127.0.0.1 for a ledger on the broker host (0: none)")
    p.add_argument("--persistence-dir", default="/var/lib/mosquitto")
    p.add_argument("--run-as", default="mosquitto", help="user Mosquitto drops to when started as root")
    p.add_argument("--ops-per-kiosk", type=int, default=50_000,
                   help="each kiosk's outbox.max_ops; sizes the ledger's queue")
    p.set_defaults(func=_run)


def _accounts(args):
    from ledger.broker_files import parse_pos
    from mqtt import topics

    lines = list(args.kiosk)
    if args.kiosks:
        text = Path(args.kiosks).read_text(encoding="utf-8")
        lines += [ln.split("#")[0].strip() for ln in text.splitlines()]
    entries = [_kiosk_line(t, args) for t in lines if t]
    kiosks = [k for k, _ in entries]
    pos = [parse_pos(t) for t in args.pos]
    seen = {}
    for k in kiosks:
        if k.user in seen:
            raise ValueError(f"kiosk {k.store}/{k.kiosk} given twice")
        seen[k.user] = k
    for worker in args.ledger_worker:
        if not topics.ID_RE.match(worker):
            raise ValueError(f"ledger worker {worker!r}: expected [a-z0-9-]{{1,32}}")
    return entries, pos


def _kiosk_line(text: str, args):
    """(account, rules) of one kiosk line; ValueError names the line and the bad option."""
    from ledger.broker_files import parse_kiosk
    from ledger.policy import kiosk_rules

    name, *options = text.split()
    account = parse_kiosk(name)
    entry = {"redeem_per_op": args.redeem_per_op, "redeem_per_day": args.redeem_per_day}
    for option in options:
        key, eq, value = option.partition("=")
        if not eq or key not in ("stores", "redeem_per_op", "redeem_per_day"):
            raise ValueError(f"kiosk {name}: option {option!r}: expected stores=S1,S2,"
                             " redeem_per_op=N or redeem_per_day=N")
        if key == "stores":
            entry[key] = value.split(",")
        elif value.isdigit():
            entry[key] = int(value)
        else:
            raise ValueError(f"kiosk {name}: {key}={value!r} is not a whole number of points")
    entry = {k: v for k, v in entry.items() if v is not None}
    return account, kiosk_rules(f"{account.store}/{account.kiosk}", entry)


def _load_credentials(path: Path) -> dict[str, str]:
    import tomllib

    if not path.exists():
        return {}
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    return {u: v["password"] for u, v in data.get("accounts", {}).items()}


def _credentials_toml(passwords: dict[str, str]) -> str:
    head = ("# Generated by `ledger broker-config`; keep secret. Re-running keeps these passwords.\n"
            "# Give each kiosk its own: kiosk provision --username USER --password-file ...\n")
    return head + "".join(f'\n[accounts."{u}"]\npassword = "{pw}"\n'
                          for u, pw in sorted(passwords.items()))


def _write(path: Path, data: str | bytes, mode: int) -> None:
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as f:
        f.write(data.encode() if isinstance(data, str) else data)
    os.chmod(tmp, mode)
    os.replace(tmp, path)


def _readable_by_broker(out: Path, run_as: str) -> None:
    """Give the secret files Mosquitto reads to its group (root:GROUP 0640): started as root by
    the packaged service, it drops to ``user RUN_AS`` before it reads them."""
    if run_as in ("", "root"):
        return
    names = " ".join(str(out / n) for n in BROKER_READS_SECRETS)
    try:
        group = pwd.getpwnam(run_as).pw_gid
    except KeyError:
        print(f"note: no user {run_as!r} here; on the broker host run: chgrp {run_as} {names}",
              file=sys.stderr)
        return
    if os.geteuid() != 0:
        print(f"note: not root, so {names} stay yours; Mosquitto drops to user {run_as!r} and"
              f" must read them: run as root: chown root:{run_as} {names}", file=sys.stderr)
        return
    for name in BROKER_READS_SECRETS:
        os.chown(out / name, 0, group)


def _tls(args, out: Path) -> None:
    from ledger import broker_files as bf

    if args.ca_cert:
        if not args.ca_key:
            raise ValueError("--ca-cert needs --ca-key to sign the broker's certificate")
        ca_pem, ca_key = Path(args.ca_cert).read_bytes(), Path(args.ca_key).read_bytes()
    elif (out / "ca.crt").exists() and (out / "ca.key").exists():
        ca_pem, ca_key = (out / "ca.crt").read_bytes(), (out / "ca.key").read_bytes()
    else:
        ca_pem, ca_key = bf.make_ca()
        _write(out / "ca.key", ca_key, 0o600)
    _write(out / "ca.crt", ca_pem, 0o644)
    cert, key = bf.make_server_cert(ca_pem, ca_key, args.hostname or ["localhost", "127.0.0.1"])
    _write(out / "server.crt", cert, 0o644)
    _write(out / "server.key", key, 0o640)


def _run(args) -> int:
    from ledger import broker_files as bf
    from ledger.policy import policy_text

    out = Path(args.out)
    try:
        entries, pos = _accounts(args)
        kiosks = [k for k, _ in entries]
        out.mkdir(parents=True, exist_ok=True)
        old = _load_credentials(out / "credentials.toml")
        users = [bf.LEDGER_USER] + [bf.ledger_worker_user(w) for w in args.ledger_worker]
        users += [k.user for k in kiosks] + [p.user for p in pos]
        passwords = {u: old.get(u) or bf.new_password() for u in users}
        _tls(args, out)
    except (ValueError, OSError) as exc:
        print(f"broker-config: {exc}", file=sys.stderr)
        return 2
    opts = bf.BrokerOptions(conf_dir=Path(args.conf_dir or out).resolve(), tls_port=args.tls_port,
                            local_port=args.local_port, persistence_dir=args.persistence_dir,
                            run_as=args.run_as,
                            max_queued=bf.queue_limit(len(kiosks), args.ops_per_kiosk))
    _write(out / "credentials.toml", _credentials_toml(passwords), 0o600)
    _write(out / "passwd", bf.password_file(passwords), 0o640)
    _write(out / "acl", bf.acl_file(kiosks, pos, args.ledger_worker), 0o644)
    _write(out / "kiosk-policy.toml",
           policy_text([(k.store, k.lane, k.kiosk, rules) for k, rules in entries]), 0o644)
    _write(out / "mosquitto.conf", bf.mosquitto_conf(opts), 0o644)
    _readable_by_broker(out, args.run_as)
    print(f"wrote {out}/: mosquitto.conf passwd acl kiosk-policy.toml ca.crt server.crt"
          " server.key credentials.toml"
          f" ({len(kiosks)} kiosks, {len(pos)} POS, ledger)")
    if (out / "ca.key").exists():
        print(f"keep {out}/ca.key off the broker once the certificates are made", file=sys.stderr)
    return 0
