"""The one error a program file or body raises, shared by the TOML and YAML readers."""


class ProgramError(ValueError):
    """A program file or body that cannot be used; the message names where and what."""
