"""Subcommands of `kiosk`, one module each."""
