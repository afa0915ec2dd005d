"""Check a program's text as the editor shows it: the body, or the problem with its line.

The checks are program.files' own (the ones `ledger program check` runs); this module only finds
where in the text the problem is. A syntax error carries its line and column (tomllib's
"(at line 3, column 7)", PyYAML's marks); a validation error names a path (``rewards[2].cost``,
``earning must not contain {'foo'}``), located by ledger.program_lines. The checks stop at the
first problem, so there is one at a time; fix it and check again.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ledger import program_lines
from program.files import ProgramError, load_text

FORMATS = ("toml", "yaml")
AT = re.compile(r"line (\d+), column (\d+)")
LEADING_PATH = re.compile(r"^[A-Za-z_][\w-]*(?:\[\d+\]|\.[A-Za-z_][\w-]*)*")
ITEM_NAME = re.compile(r"^(\S+?\[\d+\]) \([^)]*\)")  # "rewards[1] (pastry).sku" -> rewards[1].sku
UNKNOWN_KEYS = re.compile(r"must not contain \{'([^']+)'")


@dataclass(frozen=True)
class Problem:
    message: str
    line: int | None = None  # from 1; None: the program as a whole (a missing key)
    column: int | None = None


@dataclass(frozen=True)
class Checked:
    body: dict | None  # None when there is a problem
    problem: Problem | None = None


def check_text(text: str, fmt: str) -> Checked:
    """The body the text describes, or its first problem with the line it is on."""
    if fmt not in FORMATS:
        return Checked(None, Problem(f"format must be one of {', '.join(FORMATS)}, not {fmt!r}"))
    text = text.replace("\r\n", "\n")  # a browser's textarea sends CRLF
    try:
        return Checked(load_text(text, fmt))
    except ProgramError as exc:
        return Checked(None, locate(str(exc), text, fmt))


def locate(message: str, text: str, fmt: str) -> Problem:
    """The problem ``message`` with the line (and column) it points at in ``text``."""
    at = AT.search(message)
    if at:
        return Problem(message, int(at.group(1)), int(at.group(2)))
    path = _path_in(message)
    if not path:
        return Problem(message)
    lines = program_lines.toml_lines(text) if fmt == "toml" else program_lines.yaml_lines(text)
    return Problem(message, program_lines.line_of(lines, path))


def _path_in(message: str) -> tuple:
    """The body path a message of program.files starts with, down to an unknown key it names."""
    text = ITEM_NAME.sub(r"\1", message)
    match = LEADING_PATH.match(text)
    if not match:
        return ()
    path = program_lines.split_path(match.group(0))
    unknown = UNKNOWN_KEYS.search(text)
    return (*path, unknown.group(1)) if unknown else path
