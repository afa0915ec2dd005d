"""Where a key of a program's text is written: the line of ``rewards[2].cost`` in TOML or YAML.

The checks of program.files name what is wrong by its path in the body (``rewards[2].cost``,
``earning``); the program editor turns that path into the line an owner edits. YAML keeps the
position of every node, so its composed tree is walked. tomllib keeps none, so the TOML text is
scanned for table headers (``[earning]``, ``[[rewards]]``, counting each array of tables) and
``key = value`` lines. A path that is not written as such (an item of a one-line array, a key
left out) takes the line of the nearest part of it that is.
"""

from __future__ import annotations

import re

Path = tuple  # ("rewards", 2, "cost")

PART = re.compile(r"\[(\d+)\]|\.?([A-Za-z0-9_-]+)")
HEADER = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?")
KEY = re.compile(r'^\s*((?:"[^"]*"|\'[^\']*\'|[A-Za-z0-9_-]+)(?:\s*\.\s*(?:"[^"]*"|\'[^\']*\''
                 r'|[A-Za-z0-9_-]+))*)\s*=')
KEY_PART = re.compile(r'"([^"]*)"|\'([^\']*)\'|([A-Za-z0-9_-]+)')


def split_path(text: str) -> Path:
    """``rewards[2].cost`` as ("rewards", 2, "cost")."""
    return tuple(int(index) if index else name for index, name in PART.findall(text))


def line_of(lines: dict[Path, int], path: Path) -> int | None:
    """The line of ``path``, or of its nearest written ancestor; None when no part is written."""
    while path:
        if path in lines:
            return lines[path]
        path = path[:-1]
    return None


def toml_lines(text: str) -> dict[Path, int]:
    """Every table and key the TOML text writes, with its line (from 1)."""
    lines: dict[Path, int] = {}
    arrays: dict[Path, int] = {}  # an array of tables -> how many items so far
    table: Path = ()
    depth = 0  # open brackets of a value written over several lines
    for number, line in enumerate(text.splitlines(), 1):
        if depth:
            depth += _opened(line)
            continue
        header = HEADER.match(line)
        if header:
            parts = _key_parts(header.group(2))
            table = (*_resolve(parts[:-1], arrays), *parts[-1:])
            if header.group(1) == "[[":
                arrays[table] = arrays.get(table, 0) + 1
                table = (*table, arrays[table] - 1)
            lines.setdefault(table, number)
            continue
        key = KEY.match(line)
        if key:
            path = (*table, *_key_parts(key.group(1)))
            lines.setdefault(path, number)
            value = line[key.end():]
            _inline_keys(value, path, number, lines)
            depth = max(0, _opened(value))
    return lines


def _opened(text: str) -> int:
    """Brackets opened minus closed, outside strings and comments (a value over several lines
    stays open until they balance)."""
    code = re.sub(r'"(?:\\.|[^"\\])*"|\'[^\']*\'', "''", text).split("#", 1)[0]
    return code.count("[") + code.count("{") - code.count("]") - code.count("}")


def _key_parts(text: str) -> Path:
    return tuple(a or b or c for a, b, c in KEY_PART.findall(text))


def _resolve(parts: Path, arrays: dict[Path, int]) -> Path:
    """A header's path with the current index of each array of tables it passes through."""
    out: Path = ()
    for part in parts:
        out = (*out, part)
        if out in arrays:
            out = (*out, arrays[out] - 1)
    return out


def _inline_keys(value: str, path: Path, number: int, lines: dict[Path, int]) -> None:
    """The keys of a one-line inline table (``{ id = "x", cost = 5 }``) are on that line."""
    if value.strip().startswith("{"):
        for key in re.findall(r"[{,]\s*([A-Za-z0-9_-]+)\s*=", value):
            lines.setdefault((*path, key), number)


def yaml_lines(text: str) -> dict[Path, int]:
    """Every key and sequence item of the YAML text, with its line (from 1); {} when the text
    does not compose (its syntax error carries its own line)."""
    import yaml

    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return {}
    lines: dict[Path, int] = {}
    _walk(root, (), lines)
    return lines


def _walk(node, path: Path, lines: dict[Path, int]) -> None:
    import yaml

    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode):
                child = (*path, key.value)
                lines.setdefault(child, key.start_mark.line + 1)
                _walk(value, child, lines)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            lines.setdefault((*path, i), item.start_mark.line + 1)
            _walk(item, (*path, i), lines)
