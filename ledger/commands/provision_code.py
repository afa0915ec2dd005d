"""`ledger provision-code`: a signed provisioning code (text and QR) for one kiosk."""

from __future__ import annotations

import sys
from pathlib import Path


def register(subs) -> None:
    p = subs.add_parser("provision-code", help="make a signed code that provisions one kiosk")
    p.add_argument("--key", help="provisioning signing key (PEM, Ed25519)")
    p.add_argument("--new-key", metavar="FILE",
                   help="write a new signing key to FILE and print its public key, then exit")
    p.add_argument("--store")
    p.add_argument("--lane")
    p.add_argument("--id", help="the kiosk's id")
    p.add_argument("--broker", help="HOST or HOST:PORT")
    p.add_argument("--tls", action="store_true")
    p.add_argument("--ca-file", help="broker CA certificate to carry in the code (PEM)")
    p.add_argument("--username")
    p.add_argument("--password-file", help="file holding the kiosk's MQTT password")
    p.add_argument("--credentials", help="credentials.toml from `ledger broker-config`: takes"
                   " the username kiosk.STORE.ID and its password from there")
    p.add_argument("--reader", choices=("sim", "nfcpy", "pcsc", "none"))
    p.add_argument("--display")
    p.add_argument("--gpio", choices=("mock", "real"))
    p.add_argument("--valid-days", type=float, default=7.0, help="the code expires after this")
    p.add_argument("--png", help="also write the code as a QR image to this PNG file")
    p.set_defaults(func=_run)


def _new_key(path: str) -> int:
    import os

    from codes.keys import new_private_pem

    pem, public = new_private_pem()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(pem)
    print(public)
    print(f"install the public key on kiosks as /etc/kiosk/provision-keys; keep {path} secret",
          file=sys.stderr)
    return 0


def _answers(args) -> dict:
    import tomllib

    answers: dict = {"store": args.store, "lane": args.lane, "id": args.id}
    if args.broker:
        host, _, port = args.broker.partition(":")
        answers["host"] = host
        if port:
            answers["port"] = int(port)
    if args.tls:
        answers["tls"] = True
    if args.ca_file:
        answers["ca_pem"] = Path(args.ca_file).read_text(encoding="ascii")
    if args.credentials:
        user = f"kiosk.{args.store}.{args.id}"
        accounts = tomllib.loads(Path(args.credentials).read_text())["accounts"]
        if user not in accounts:
            raise ValueError(f"{args.credentials} has no account {user}: re-run broker-config"
                             f" with --kiosk {args.store}/{args.lane}/{args.id}")
        answers["username"], answers["password"] = user, accounts[user]["password"]
    if args.username:
        answers["username"] = args.username
    if args.password_file:
        answers["password"] = Path(args.password_file).read_text(encoding="utf-8").strip()
    for name in ("reader", "display", "gpio"):
        if getattr(args, name):
            answers[name] = getattr(args, name)
    return answers


def _run(args) -> int:
    if args.new_key:
        return _new_key(args.new_key)
    from codes.keys import load_private
    from codes.provision_answers import Answers, BadAnswer, check_answers
    from codes.provisioning import sign

    try:
        if not (args.key and args.store and args.lane and args.id and args.broker):
            raise ValueError("--key, --store, --lane, --id and --broker are required")
        answers = _answers(args)
        # The kiosk will check again; refuse here what it would refuse there.
        check_answers(Answers(**{k: v for k, v in answers.items() if k != "ca_pem"},
                      ca_pem=answers.get("ca_pem", "")))
        text = sign(load_private(args.key), answers, int(args.valid_days * 86400))
    except (ValueError, OSError, KeyError) as exc:
        print(f"provision-code: {exc}", file=sys.stderr)
        return 2
    except BadAnswer as exc:
        print(f"provision-code: refused: {exc}", file=sys.stderr)
        return 2
    print(text)
    if args.png:
        import segno

        segno.make(text, error="m").save(args.png, scale=4)
    return 0
