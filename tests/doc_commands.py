"""The `ledger ...` and `kiosk ...` commands shown in README.md and docs/*.md, read from the
Markdown itself (markdown-it-py), and rewritten to run against a temporary setup.

What counts as a command: in a ``sh``/``bash``/``shell`` block every line (``#`` comments
dropped, ``\\`` continuations joined); in an unlabelled, ``text`` or ``console`` block only lines
after a ``$ `` prompt (the rest is output). A line counts when one of its pipeline parts runs
``ledger`` or ``kiosk`` (also as ``sudo [-u USER] /opt/kiosk/venv/bin/kiosk``). ``export
NAME=VALUE`` lines set the environment of the commands after them in that document.

The rewrite (``Setup.rewrite``) keeps each command as written except for what names the
reader's own machine: absolute paths move under a temporary root, ``--db ...`` and
``postgresql://...`` become the test's databases, ``--host``/``--port`` the test's broker, and
a relative path that exists in the repository (``docs/examples/program.toml``) is read from it.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from markdown_it import MarkdownIt

REPO = Path(__file__).resolve().parent.parent
SHELL_BLOCKS = {"sh", "bash", "shell"}
PROMPT_BLOCKS = {"", "text", "console"}
PROGRAMS = {"ledger", "kiosk"}
OPERATORS = {"|", "||", "&&", ";", "&"}


def doc_files() -> list[Path]:
    """Every document whose commands are checked: new docs are picked up as they are added."""
    return [REPO / "README.md", *sorted((REPO / "docs").glob("**/*.md"))]


@dataclass(frozen=True)
class DocLine:
    """One line of a code block: a command to run, or an ``export``."""

    path: Path
    line: int  # 1-based, in the Markdown file
    text: str  # as written, continuations joined, comment and prompt dropped
    words: tuple[str, ...]  # shell words and operators

    @property
    def where(self) -> str:
        return f"{self.path.relative_to(REPO)}:{self.line}"

    @property
    def export(self) -> tuple[str, str] | None:
        if len(self.words) == 2 and self.words[0] == "export" and "=" in self.words[1]:
            name, _, value = self.words[1].partition("=")
            return name, value
        return None

    def segments(self) -> list[list[str]]:
        """The pipeline/list parts, each a list of words."""
        parts: list[list[str]] = [[]]
        for word in self.words:
            if word in OPERATORS:
                parts.append([])
            else:
                parts[-1].append(word)
        return [p for p in parts if p]

    def programs(self) -> list[list[str]]:
        """The parts that run ledger or kiosk, from the program word on (sudo, env dropped)."""
        return [cmd for cmd in map(command_words, self.segments()) if cmd]


def command_words(segment: list[str]) -> list[str]:
    """``sudo -u kiosk /opt/kiosk/venv/bin/kiosk doctor`` -> ``['kiosk', 'doctor']``; [] for a
    part that runs something else."""
    words = list(segment)
    while words and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*=.*", words[0]):
        words.pop(0)  # NAME=value before the program
    if words[:1] == ["sudo"]:
        words.pop(0)
        if words[:1] == ["-u"]:
            words[:2] = []
    if words and Path(words[0]).name in PROGRAMS:
        return [Path(words[0]).name, *words[1:]]
    return []


def _split(text: str) -> tuple[str, ...]:
    lexer = shlex.shlex(text, posix=True, punctuation_chars=";&|")
    lexer.whitespace_split = True  # keep --a=b, paths and URLs in one word
    return tuple(lexer)


def _logical_lines(content: str, start: int) -> Iterator[tuple[int, str]]:
    """(line number, text) with ``\\`` continuations joined."""
    pending, first = "", 0
    for offset, raw in enumerate(content.splitlines()):
        if not pending:
            first = start + offset
        if raw.rstrip().endswith("\\"):
            pending += raw.rstrip()[:-1] + " "
            continue
        yield first, pending + raw
        pending = ""
    if pending:
        yield first, pending


def block_lines(path: Path) -> Iterator[DocLine]:
    """Every command or export line of the document's code blocks, in order."""
    tokens = MarkdownIt("commonmark").parse(path.read_text(encoding="utf-8"))
    for tok in tokens:
        if tok.type != "fence":
            continue
        lang = tok.info.split()[0].lower() if tok.info.strip() else ""
        if lang not in SHELL_BLOCKS | PROMPT_BLOCKS:
            continue
        start = tok.map[0] + 2  # the fence line is map[0] (0-based)
        for number, text in _logical_lines(tok.content, start):
            text = text.strip()
            if lang in PROMPT_BLOCKS:
                if not text.startswith("$ "):
                    continue
                text = text[2:]
            words = _split(text)
            if words:
                yield DocLine(path, number, text, words)


def doc_commands(path: Path) -> list[DocLine]:
    """The lines that run ledger or kiosk, and the exports among them."""
    return [d for d in block_lines(path) if d.export or d.programs()]


@dataclass
class Setup:
    """Where the commands of one document run: a temporary root, databases, a broker."""

    root: Path  # absolute paths in the docs live under it
    work: Path  # the working directory: relative paths land here
    sqlite: str
    broker_port: int
    postgres: Callable[[], str]  # a fresh PostgreSQL database URL (called once, when needed)
    _pg_url: str = ""
    env: dict[str, str] = field(default_factory=dict)

    def pg_url(self) -> str:
        self._pg_url = self._pg_url or self.postgres()
        return self._pg_url

    def path(self, text: str) -> str:
        """An absolute path moved under the root; a repository file made absolute."""
        if text.startswith("/"):
            moved = self.root / text.lstrip("/")
            moved.parent.mkdir(parents=True, exist_ok=True)
            return str(moved)
        if "/" in text and not text.startswith(("-", ".")) and (REPO / text).exists():
            return str(REPO / text)
        return text

    def word(self, word: str) -> str:
        if word.startswith("postgresql://"):
            return self.pg_url()
        name, eq, value = word.partition("=")
        if eq and name.startswith("-"):
            return f"{name}={self.word(value)}"
        return self.path(word)

    def rewrite(self, segment: list[str]) -> list[str]:
        """One part of a command line, made to run here."""
        out, i = [], 0
        has_port = "--port" in segment
        while i < len(segment):
            word = segment[i]
            value = segment[i + 1] if i + 1 < len(segment) else None
            if word == "--db" and value == "...":
                out += ["--db", self.sqlite]
            elif word == "--host" and value is not None:
                out += ["--host", "127.0.0.1"] + (
                    [] if has_port else ["--port", str(self.broker_port)]
                )
            elif word == "--port" and value is not None:
                out += ["--port", str(self.broker_port)]
            else:
                out.append(self.word(word))
                i += 1
                continue
            i += 2
        return out

    def shell_line(self, doc: DocLine, bin_dir: Path) -> str:
        """The whole line for bash, each ledger/kiosk part rewritten."""
        parts = []
        for segment in doc.segments():
            cmd = command_words(segment)
            if cmd:
                words = [str(bin_dir / cmd[0]), *self.rewrite(cmd[1:])]
            else:
                words = [self.word(w) for w in segment]
            parts.append(shlex.join(words))
        joins = [w for w in doc.words if w in OPERATORS]
        line = parts[0]
        for op, part in zip(joins, parts[1:], strict=False):
            line += f" {op} {part}"
        return line
