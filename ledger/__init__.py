"""The authoritative points ledger: members, cards, journal, program, idempotent apply."""
