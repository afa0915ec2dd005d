"""Program files in YAML: ``yaml.safe_load``'s reading, minus the YAML 1.1 surprises.

PyYAML reads YAML 1.1, where ``yes``/``no``/``on``/``off`` are booleans, ``10:00`` is the
number 600 (base 60), ``0200`` is octal 128 and a key may appear twice (the last one wins).
A shop owner who writes ``name: Yes`` or ``min_spend_minor: 0200`` means none of that, so
those forms are refused with the line, the column and the key, and a hint (quote it). Aliases
are refused too: a program file does not need them, and they are how a small file expands
into a huge one. Dates are left to ``program.files``, which treats them as TOML's.
"""

from __future__ import annotations

import datetime as dt
import re

import yaml

from program.errors import ProgramError

BOOL = re.compile(r"true|false", re.IGNORECASE)  # YAML 1.2's booleans; yes/no/on/off are not
OCTAL = re.compile(r"[-+]?0[0-9_]+")  # YAML 1.1 octal (0200 is 128); TOML refuses it too
DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
TAGS = {f"tag:yaml.org,2002:{t}" for t in
        ("str", "int", "float", "bool", "null", "timestamp", "map", "seq")}


def parse(text: str) -> dict:
    """The mapping a YAML program file holds; ProgramError names the line, column and key."""
    try:
        loader = yaml.SafeLoader(text)
    except yaml.reader.ReaderError as exc:  # a control character: PyYAML checks them first
        line = text.count("\n", 0, exc.position) + 1
        column = exc.position - (text.rfind("\n", 0, exc.position) + 1) + 1
        raise ProgramError(f"not valid YAML at line {line}, column {column}: character"
                           f" U+{exc.character:04X} is not allowed") from None
    try:
        node = loader.get_single_node()
        if node is None:
            raise ProgramError("the file is empty")
        if not isinstance(node, yaml.MappingNode):
            raise _at(node, "", "the file must be a mapping of keys (version: 2, name: ...)")
        _check(node, "", set())
        return loader.construct_document(node)
    except ProgramError:
        raise
    except yaml.MarkedYAMLError as exc:
        raise ProgramError(f"not valid YAML{_where(exc)}") from None
    except yaml.YAMLError as exc:
        raise ProgramError(f"not valid YAML: {' '.join(str(exc).split())}") from None
    except ValueError as exc:  # a timestamp PyYAML's pattern takes but the calendar does not
        raise ProgramError(f"not valid YAML: {exc}") from None
    finally:
        loader.dispose()


def _where(exc: yaml.MarkedYAMLError) -> str:
    """' at line 3, column 1: found unexpected end of stream (while scanning a quoted scalar,
    line 2, column 7)': PyYAML's own words, lines and columns counted from 1."""
    text = ""
    if exc.problem_mark:
        text = f" at {_line(exc.problem_mark)}"
    text += f": {exc.problem or exc.context}"
    if exc.context and exc.problem:
        text += f" ({exc.context}" + (f", {_line(exc.context_mark)})" if exc.context_mark
                                     else ")")
    return text


def _line(mark) -> str:
    return f"line {mark.line + 1}, column {mark.column + 1}"


def _at(node: yaml.Node, path: str, message: str) -> ProgramError:
    where = _line(node.start_mark)
    return ProgramError(f"{path} ({where}): {message}" if path else f"{where}: {message}")


def _check(node: yaml.Node, path: str, seen: set[int]) -> None:
    """Walk the composed document before it becomes Python values, refusing the traps."""
    if id(node) in seen:  # the same node twice: an alias (*name)
        raise ProgramError(f"{path}: aliases (*name) are not supported in a program file;"
                           f" write out the value anchored at {_line(node.start_mark)}")
    seen.add(id(node))
    if node.tag not in TAGS:
        tag = node.tag.replace("tag:yaml.org,2002:", "!!")
        raise _at(node, path, f"the tag {tag} is not supported in a program file")
    if isinstance(node, yaml.MappingNode):
        _check_mapping(node, path, seen)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _check(item, f"{path}[{i}]", seen)
    elif node.style is None:  # plain (unquoted) scalars are the ones YAML 1.1 reinterprets
        _check_plain(node, path)


def _check_mapping(node: yaml.MappingNode, path: str, seen: set[int]) -> None:
    keys: dict[str, int] = {}
    for key, value in node.value:
        if key.tag == "tag:yaml.org,2002:merge":
            raise _at(key, path, "merge keys (<<) are not supported in a program file; write"
                      " the keys out")
        if not isinstance(key, yaml.ScalarNode) or key.tag != "tag:yaml.org,2002:str":
            text = key.value if isinstance(key, yaml.ScalarNode) else "?"
            raise _at(key, path, f"the key {text} is not read as text; quote it (\"{text}\")")
        where = f"{path}.{key.value}" if path else key.value
        if key.value in keys:
            raise _at(key, where, f"the key appears twice (first on line {keys[key.value]})")
        keys[key.value] = key.start_mark.line + 1
        _check(value, where, seen)


def _check_plain(node: yaml.ScalarNode, path: str) -> None:
    text, kind = node.value, node.tag.rsplit(":", 1)[1]
    if kind == "bool" and not BOOL.fullmatch(text):
        raise _at(node, path, f"{text} is read by YAML as a boolean; write true or false, or"
                  f" quote it (\"{text}\") for text")
    if kind in ("int", "float") and ":" in text:
        raise _at(node, path, f"{text} is read by YAML as a number in base 60; quote it"
                  f" (\"{text}\")")
    if kind == "int" and OCTAL.fullmatch(text):
        raise _at(node, path, f"{text} is read by YAML as an octal number; write it without"
                  " the leading zero, or quote it")
    if kind == "float" and text.lstrip("+-").lower() in (".nan", ".inf"):
        raise _at(node, path, f"{text} is not a usable number")
    if kind == "timestamp" and DATE.fullmatch(text):
        try:
            dt.date.fromisoformat(text)
        except ValueError:
            raise _at(node, path, f"{text} is not a date") from None
    if kind == "null":
        raise _at(node, path, "no value; write one, or leave the key out")
