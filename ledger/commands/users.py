"""`ledger users add NAME --role ROLE [--password-stdin]`, `ledger users list`,
`ledger users disable NAME`: the back office's accounts (ledger/web/accounts.py), every change
audited as the command line's user."""

from __future__ import annotations

import sys

from ledger.commands import add_db_option, open_store

ROLES = ("owner", "staff", "technician")  # as ledger.web.accounts.ROLES (kept light to import)


def register(subs) -> None:
    p = subs.add_parser("users", help="back-office accounts: add, list, disable")
    actions = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    add = actions.add_parser("add", help="create an account (asks for its password)")
    add_db_option(add)
    add.add_argument("name", help="the user name (1-64 printable characters)")
    add.add_argument("--role", required=True, choices=ROLES,
                     help="owner: everything; staff: members and adjustments; technician: fleet")
    add.add_argument("--password-stdin", action="store_true",
                     help="read the password from standard input instead of asking")
    add.set_defaults(func=_add)
    listing = actions.add_parser("list", help="every account, its role and whether disabled")
    add_db_option(listing)
    listing.set_defaults(func=_list)
    disable = actions.add_parser("disable", help="disable an account (its sessions end)")
    add_db_option(disable)
    disable.add_argument("name")
    disable.set_defaults(func=_disable)


def _password(from_stdin: bool) -> str | None:
    import getpass

    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    try:
        first = getpass.getpass("Password: ")
        if getpass.getpass("Again: ") != first:
            print("ledger users: the two passwords differ", file=sys.stderr)
            return None
    except (EOFError, KeyboardInterrupt):
        print("\nledger users: no password given", file=sys.stderr)
        return None
    return first


def _add(args) -> int:
    from ledger.audit import cli_actor
    from ledger.web import accounts

    if why := accounts.name_problem(args.name):
        print(f"ledger users: {why}", file=sys.stderr)
        return 2
    password = _password(args.password_stdin)
    if password is None:
        return 2
    store = open_store(args)
    try:
        user = accounts.add(store, args.name, password, args.role, cli_actor(), "cli")
    except accounts.AccountError as exc:
        print(f"ledger users: {exc}", file=sys.stderr)
        return 1
    finally:
        store.close()
    print(f"added {user.name} ({user.role})")
    return 0


def _list(args) -> int:
    from ledger.web import accounts

    store = open_store(args)
    users = accounts.all_users(store.db)
    store.close()
    for user in users:
        state = "disabled" if user.disabled else "active"
        print(f"{user.name}\t{user.role}\t{state}\tsince {user.created_at}")
    if not users:
        print("no accounts yet: `ledger users add NAME --role owner` makes the first",
              file=sys.stderr)
    return 0


def _disable(args) -> int:
    from ledger.audit import cli_actor
    from ledger.web import accounts

    store = open_store(args)
    try:
        accounts.disable(store, args.name, cli_actor(), "cli")
    except accounts.AccountError as exc:
        print(f"ledger users: {exc}", file=sys.stderr)
        return 1
    finally:
        store.close()
    print(f"disabled {args.name}")
    return 0
