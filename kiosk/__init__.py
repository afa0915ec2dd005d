"""The kiosk daemon: session state machine, durable outbox, config, CLI."""

__version__ = "0.1.0"
