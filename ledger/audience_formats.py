"""Audience files in the column conventions of common email tools, so an export imports with
no column mapping (docs/segments.md cites each tool's import guide):

- Mailchimp: "Email Address" (required), "First Name", "Last Name", "Phone Number", "Tags"
  (comma-separated, quoted), custom fields;
- Klaviyo: "Email" first, "First Name", "Last Name", "Phone Number", "Email Marketing Consent",
  custom properties;
- Brevo (formerly Sendinblue): EMAIL, FIRSTNAME, LASTNAME, SMS (the mobile number with its
  country code), custom attributes in capitals; semicolon-separated.

The ledger keeps one display name: its first word is the first name, the rest the last name.
Every row is a member whose email consent holds now (segment_export.tool_rows); the phone is
filled only for members whose sms consent holds too.
"""

from __future__ import annotations

import csv
from typing import TextIO

TOOLS = ("mailchimp", "klaviyo", "brevo")


def split_name(name: str) -> tuple[str, str]:
    first, _, last = (name or "").strip().partition(" ")
    return first, last.strip()


def _mailchimp(row: dict) -> dict:
    first, last = split_name(row["name"])
    return {"Email Address": row["email"], "First Name": first, "Last Name": last,
            "Phone Number": row["phone"] or "", "Tags": ",".join(row["tags"]),
            "Language": row["language"] or "", "Points": row["balance"],
            "Member ID": row["member_id"]}


def _klaviyo(row: dict) -> dict:
    first, last = split_name(row["name"])
    return {"Email": row["email"], "First Name": first, "Last Name": last,
            "Phone Number": row["phone"] or "", "Email Marketing Consent": "Subscribed",
            "Language": row["language"] or "", "Tier": row["tier"], "Points": row["balance"],
            "Member ID": row["member_id"]}


def _brevo(row: dict) -> dict:
    first, last = split_name(row["name"])
    return {"EMAIL": row["email"], "FIRSTNAME": first, "LASTNAME": last, "SMS": row["phone"] or "",
            "LANGUAGE": row["language"] or "", "TIER": row["tier"], "POINTS": row["balance"],
            "EXT_ID": row["member_id"]}


MAPPERS = {"mailchimp": (_mailchimp, ","), "klaviyo": (_klaviyo, ","), "brevo": (_brevo, ";")}


def write(rows: list[dict], tool: str, out: TextIO) -> None:
    """``rows`` (segment_export.tool_rows) as the tool's import file, header first."""
    mapper, delimiter = MAPPERS[tool]
    mapped = [mapper(r) for r in rows]
    header = list(mapper({"email": "", "name": "", "phone": None, "tags": [], "language": None,
                          "balance": 0, "tier": "", "member_id": ""}))
    writer = csv.DictWriter(out, fieldnames=header, delimiter=delimiter, lineterminator="\n")
    writer.writeheader()
    writer.writerows(mapped)
