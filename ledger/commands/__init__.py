"""Subcommands of `ledger`, one module each."""
