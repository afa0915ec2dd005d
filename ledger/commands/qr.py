"""`ledger qr MEMBER`: print a member's current QR code as text and as a terminal QR or PNG.

`ledger qr --new-key FILE` makes a signing key and prints the public key the
kiosks' ``qr.keys`` needs.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

KEY_ENV = "LEDGER_QR_KEY"


def register(subs) -> None:
    p = subs.add_parser("qr", help="print a member's QR code (text, terminal QR, PNG)")
    p.add_argument("member", nargs="?", help="member id ([a-z0-9-], up to 32)")
    p.add_argument("--key", default=os.environ.get(KEY_ENV, ""),
                   help=f"signing key, PEM (default ${KEY_ENV})")
    p.add_argument("--demo", action="store_true", help="sign with the public demo key")
    p.add_argument("--program", default="loyalty", help="program id (default: loyalty)")
    p.add_argument("--card", type=int, metavar="ISSUE",
                   help="a static printed-card code with this issue number, not an app code")
    p.add_argument("--period", type=int, default=30, help="app code rotation, s (default 30)")
    p.add_argument("--png", metavar="FILE", help="also write the QR as a PNG")
    p.add_argument("--text-only", action="store_true", help="print the text, no terminal QR")
    p.add_argument("--new-key", metavar="FILE", help="create a signing key and print its public key")
    p.set_defaults(func=run)


def _fail(message: str) -> int:
    print(f"ledger qr: {message}", file=sys.stderr)
    return 2


def _new_key(path: str) -> int:
    from codes import keys

    pem, public = keys.new_private_pem()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as exc:
        return _fail(f"{path}: cannot create: {exc.strerror}")
    with os.fdopen(fd, "wb") as f:
        f.write(pem)
    print(f"signing key written to {path} (keep it on the ledger only)")
    print(f"kiosk config: [qr] keys = [\"{public}\"]")
    return 0


def _signing_key(args):
    from codes import keys
    from codes import member_qr as qrcodes

    if args.demo:
        return qrcodes.demo_key()
    if not args.key:
        raise ValueError(f"no signing key: pass --key FILE or set ${KEY_ENV}"
                         " (make one with --new-key FILE), or --demo")
    return keys.load_private(args.key)


def run(args) -> int:
    from codes import member_qr as qrcodes

    if args.new_key:
        return _new_key(args.new_key)
    if not args.member:
        return _fail("give a MEMBER id (or --new-key FILE)")
    if not 5 <= args.period <= 600:
        return _fail(f"--period {args.period} out of range, expected 5..600")
    try:
        key = _signing_key(args)
        if args.card is not None:
            text = qrcodes.card_code(key, args.program, args.member, args.card)
        else:
            text = qrcodes.app_code(key, args.program, args.member, args.period)
    except qrcodes.QrRefused as exc:
        return _fail(f"cannot make a code: {exc.detail}")
    except ValueError as exc:
        return _fail(str(exc))
    print(text)
    return _draw(text, args)


def _draw(text: str, args) -> int:
    import segno

    qr = segno.make(text, error="m", micro=False)
    if not args.text_only:
        qr.terminal(out=sys.stdout, compact=True)
    if args.png:
        try:
            qr.save(args.png, kind="png", scale=6, border=4)
        except OSError as exc:
            return _fail(f"{args.png}: cannot write PNG: {exc.strerror}")
        print(f"PNG written to {Path(args.png)}")
    return 0
