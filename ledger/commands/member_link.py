"""`ledger members link MEMBER`: a signed link to the member's page (ledger.member_links);
`ledger members link-key FILE [--rotate]`: make or rotate the key the links are signed with."""

from __future__ import annotations

import os
import sys

from ledger.commands import add_db_option, open_store

KEY_ENV = "LEDGER_LINK_KEY"
URL_ENV = "LEDGER_WEB_URL"


def register_link(sub) -> None:
    p = sub.add_parser("link", help="print a signed link to a member's page (audited)")
    add_db_option(p)
    p.add_argument("member", metavar="MEMBER", help="member id or card UID/number")
    p.add_argument("--purpose", choices=("kiosk", "email"), default="kiosk",
                   help="kiosk: opens for 15 minutes; email: for 7 days (default kiosk)")
    add_link_options(p)
    p.set_defaults(func=_link)
    k = sub.add_parser("link-key", help="create (or --rotate) the key member links are signed with")
    k.add_argument("file", metavar="FILE", help="the key file (kept on the ledger only)")
    k.add_argument("--rotate", action="store_true",
                   help="sign with a new key from now on; links of the previous key still open")
    k.set_defaults(func=_link_key)


def add_link_options(p) -> None:
    """--web-url and --link-key, shared with `ledger serve`."""
    p.add_argument("--web-url", default=os.environ.get(URL_ENV, ""), metavar="URL",
                   help=f"the member pages' base, e.g. https://loyalty.example (env ${URL_ENV})")
    p.add_argument("--link-key", default=os.environ.get(KEY_ENV, ""), metavar="FILE",
                   help=f"the link key file (env ${KEY_ENV}; `ledger members link-key FILE`)")


def link_maker(args):
    """(base URL, LinkKeys) from the options, or None when no --web-url; ValueError if the
    options are incomplete or wrong."""
    from ledger import member_links

    if not args.web_url:
        if args.link_key:
            raise ValueError("--link-key needs --web-url (the address the links point at)")
        return None
    base = member_links.check_base(args.web_url)
    if not args.link_key:
        raise ValueError(f"--web-url needs --link-key FILE (or ${KEY_ENV}) to sign links with")
    return base, member_links.load(args.link_key)


def _link(args) -> int:
    from ledger import audit, member_links
    from ledger.commands.member_profile import member_id

    try:
        maker = link_maker(args)
    except ValueError as exc:
        print(f"ledger: {exc}", file=sys.stderr)
        return 2
    if maker is None:
        print(f"ledger: give --web-url URL (or ${URL_ENV}) and --link-key FILE", file=sys.stderr)
        return 2
    store = open_store(args)
    if (who := member_id(store, args.member)) is None:
        return 1
    base, keys = maker
    with store.transaction() as db:
        audit.record(db, audit.cli_actor(), "cli", "member.link", who, {"purpose": args.purpose})
    print(member_links.url(base, keys.token(who, args.purpose)))
    return 0


def _link_key(args) -> int:
    from ledger import member_links

    try:
        if args.rotate:
            member_links.rotate(args.file)
            print(f"{args.file}: new signing key; links of the previous key open until they expire")
        else:
            member_links.create(args.file)
            print(f"link key written to {args.file} (keep it on the ledger only)")
    except FileExistsError:
        print(f"ledger: {args.file} exists; use --rotate to add a new key", file=sys.stderr)
        return 1
    except (OSError, ValueError) as exc:
        print(f"ledger: {exc}", file=sys.stderr)
        return 1
    return 0
