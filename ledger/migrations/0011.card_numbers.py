"""Card numbers that `ledger members add --card` registered as UIDs (``card:MEMBER-0042``) become
card numbers (``ndef:MEMBER-0042``), the key a kiosk looks such a card up by. A UID is hex, so a
``card:`` key with any other character was never a UID and never matched a tap. One whose card
number is registered to someone already (a duplicate enrolled at the kiosk) is left for the
operator (`ledger cards list`)."""

import logging
import re

from yoyo import step

__depends__ = {"0010.tier_reviewed"}
_HEX = re.compile(r"[0-9A-Fa-f]+")


def apply(conn) -> None:
    mark = "?" if type(conn).__module__.startswith("sqlite3") else "%s"
    cur = conn.cursor()
    cur.execute("SELECT token_key FROM tokens WHERE token_key LIKE 'card:%'")
    for (key,) in cur.fetchall():
        number = key[len("card:") :]
        if _HEX.fullmatch(number):
            continue
        cur.execute(f"SELECT member_id FROM tokens WHERE token_key={mark}", (f"ndef:{number}",))
        if cur.fetchone():
            logging.getLogger(__name__).warning(
                "%s left as it is: ndef:%s is registered", key, number
            )
            continue
        cur.execute(
            f"UPDATE tokens SET token_key={mark} WHERE token_key={mark}", (f"ndef:{number}", key)
        )


steps = [step(apply)]
