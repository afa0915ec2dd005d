"""`ledger consent give|withdraw MEMBER --channel email --where staff --wording v1`: record a
member's consent for a channel, or its withdrawal, as a new row of their consent history."""

from __future__ import annotations

from ledger import profile_fields as pf
from ledger.audit import cli_actor
from ledger.commands import add_db_option, open_store
from ledger.commands.member_profile import checked, member_id


def register(subs) -> None:
    p = subs.add_parser("consent", help="a member gives or withdraws consent for a channel")
    sub = p.add_subparsers(dest="action", required=True, metavar="give|withdraw")
    for action in ("give", "withdraw"):
        a = sub.add_parser(action, help=f"the member {action}s consent")
        add_db_option(a)
        a.add_argument("member", metavar="MEMBER", help="member id or card UID/number")
        a.add_argument(
            "--channel",
            required=True,
            type=checked(pf.channel),
            help=f"one of {', '.join(pf.CHANNELS)}",
        )
        a.add_argument(
            "--where",
            required=True,
            type=checked(pf.source),
            help=f"where it was asked: {', '.join(pf.SOURCES)}",
        )
        a.add_argument(
            "--wording",
            required=True,
            type=checked(pf.wording),
            help="the version of the text the member was shown, e.g. v1",
        )
        a.set_defaults(func=_consent, given=action == "give")


def _consent(args) -> int:
    from ledger.profiles import set_consent

    store = open_store(args)
    if (who := member_id(store, args.member)) is None:
        return 1
    c = set_consent(store, who, args.channel, args.given, args.where, args.wording,
                    actor=cli_actor())
    print(
        f"{who}: consent {c.channel} {'given' if c.given else 'withdrawn'} ({c.source},"
        f" wording {c.wording})"
    )
    return 0
