"""Program files in YAML: the same program as the TOML example, the same checks and messages for
both formats, and the YAML 1.1 traps refused with the line, the column and the key. Pure: no
database, no broker."""

from pathlib import Path

import pytest

from program.files import ProgramError, load_file
from program.signing import canonical

EXAMPLES = Path(__file__).parent.parent / "docs" / "examples"
TOML, YAML = EXAMPLES / "program.toml", EXAMPLES / "program.yaml"


def load_text(tmp_path, name: str, text: str) -> dict:
    path = tmp_path / name
    path.write_text(text)
    return load_file(path)


def refusal(tmp_path, name: str, text: str) -> str:
    with pytest.raises(ProgramError) as err:
        load_text(tmp_path, name, text)
    message = str(err.value)
    assert message.startswith(f"{tmp_path / name}: "), message
    return message.split(": ", 1)[1]


def test_yaml_example_is_the_toml_example():
    toml, yaml = load_file(TOML), load_file(YAML)
    assert yaml == toml
    assert canonical(yaml) == canonical(toml)  # what the program message signs


def test_yml_suffix_and_upper_case_suffix(tmp_path):
    text = YAML.read_text()
    assert load_text(tmp_path, "shop.yml", text) == load_text(tmp_path, "SHOP.YAML", text) \
        == load_file(TOML)


@pytest.mark.parametrize("name", ["shop.json", "shop.txt", "shop"])
def test_unknown_suffix_names_the_file_and_the_suffixes_accepted(tmp_path, name):
    message = refusal(tmp_path, name, YAML.read_text())
    assert "unknown program file type" in message
    assert "*.toml" in message and "*.yaml" in message and "*.yml" in message


# The same mistake in both formats gets the same message: one validation for both.
SAME = [
    # (TOML text, YAML text, message)
    ('version = 1\nname = "x"\n', "version: 1\nname: x\n", "program must contain ['currency']"),
    ('version = "one"\nname = "x"\ncurrency = "EUR"\n', "version: one\nname: x\ncurrency: EUR\n",
     "version must be integer"),
    ('version = 2.5\nname = "x"\ncurrency = "EUR"\n', "version: 2.5\nname: x\ncurrency: EUR\n",
     "version must be integer"),
    (TOML.read_text().replace("min_points = 2000", "min_points = 0"),
     YAML.read_text().replace("min_points: 2000", "min_points: 0"),
     "tiers[1].min_points must be bigger than or equal to 1"),
    (TOML.read_text().replace("min_points = 500", 'min_points = "lots"'),
     YAML.read_text().replace("min_points: 500", "min_points: lots"),
     "tiers[0].min_points must be integer"),
    (TOML.read_text().replace("[earning]", "[earning]\npionts_per_unit = 3"),
     YAML.read_text().replace("earning:\n", "earning:\n  pionts_per_unit: 3\n"),
     "earning must not contain {'pionts_per_unit'}"),
    (TOML.read_text().replace('rounding = "down"', 'rounding = "sideways"'),
     YAML.read_text().replace("rounding: down", "rounding: sideways"),
     "earning.rounding must be one of ['down', 'nearest', 'up']"),
    (TOML.read_text().replace('tiers = ["gold"]', 'tiers = ["platinum"]'),
     YAML.read_text().replace("tiers: [gold]", "tiers: [platinum]"),
     "rewards[2] (gold-10).tiers names tier 'platinum'"),
    (TOML.read_text().replace('"15:00-17:00"', '"17:00-15:00"'),
     YAML.read_text().replace('"15:00-17:00"', '"17:00-15:00"'),
     "promotions[0] (happy-hour).hours '17:00-15:00': the end must be after the start"),
    (TOML.read_text().replace("until = 2026-05-31", "until = 2026-02-01"),
     YAML.read_text().replace("until: 2026-05-31", "until: 2026-02-01"),
     "until 2026-02-01 is before from 2026-03-01"),
    (TOML.read_text().replace("from = 2026-03-01", "from = 2026-03-01T10:00:00"),
     YAML.read_text().replace("from: 2026-03-01", "from: 2026-03-01 10:00:00"),
     "promotions[1].from: 2026-03-01T10:00:00 has a time of day"),
    (TOML.read_text().replace('name = "Bean There Rewards"', "name = 2026-03-01"),
     YAML.read_text().replace("name: Bean There Rewards", "name: 2026-03-01"),
     "name: 2026-03-01 is read as a date; quote it"),
    (TOML.read_text().replace("multiplier = 1.25", "multiplier = nan"),
     YAML.read_text().replace("multiplier: 1.25", 'multiplier: !!float "nan"'),
     "tiers[0].multiplier: nan is not a usable number"),
]


@pytest.mark.parametrize("toml, yaml, message", SAME, ids=[m for _, _, m in SAME])
def test_same_mistake_same_message_in_toml_and_yaml(tmp_path, toml, yaml, message):
    from_toml = refusal(tmp_path, "shop.toml", toml)
    from_yaml = refusal(tmp_path, "shop.yaml", yaml)
    assert message in from_toml
    assert from_yaml == from_toml


def yaml_with(old: str, new: str) -> str:
    text = YAML.read_text()
    assert old in text
    return text.replace(old, new, 1)


def at(needle: str, column: int | None = None, below: int = 0) -> str:
    """'line 14, column 16': where ``needle`` is in the YAML example (``below`` lines under
    it), so the table below survives edits to the example."""
    lines = YAML.read_text().splitlines()
    line = next(i for i, text in enumerate(lines, 1) if needle in text) + below
    return f"line {line}, column {column}" if column else str(line)


# What YAML (1.1, as PyYAML reads it) would silently turn into something else, and syntax errors.
TRAPS = [
    # (what, YAML text, words the message must hold)
    ("unclosed quote", 'version: 2\nname: "Bean\ncurrency: EUR\n',
     ["not valid YAML at line 4, column 1", "found unexpected end of stream",
      "while scanning a quoted scalar, line 2, column 7"]),
    ("bad indentation", "version: 2\n  name: x\n",
     ["not valid YAML at line 2, column 7", "mapping values are not allowed here"]),
    ("a tab", "version: 2\n\tname: x\n", ["not valid YAML at line 2, column 1", "'\\t'"]),
    ("two documents", "version: 2\n---\nname: x\n",
     ["not valid YAML at line 2, column 1", "expected a single document"]),
    ("a control character", 'version: 2\nname: "a\x00"\n',
     ["not valid YAML at line 2, column 9", "U+0000"]),
    ("empty file", "# only a comment\n", ["the file is empty"]),
    ("not a mapping", "- version: 2\n", ["line 1, column 1", "must be a mapping of keys"]),
    ("no as a boolean", yaml_with("unknown_token: enrol", "unknown_token: no"),
     [f"unknown_token ({at('unknown_token:', 16)})", "no is read by YAML as a boolean",
      'quote it ("no")']),
    ("yes as a name", yaml_with("name: Bean There Rewards", "name: Yes"),
     [f"name ({at('name: Bean', 7)})", "Yes is read by YAML as a boolean"]),
    ("on as a tier id", yaml_with("- id: silver", "- id: on"),
     [f"tiers[0].id ({at('- id: silver', 9)})", "on is read by YAML as a boolean"]),
    ("off as a day", yaml_with("days: [mon, tue", "days: [off, tue"),
     [f"promotions[0].days[0] ({at('days: [mon', 12)})", "off is read by YAML as a boolean"]),
    ("on as a key", yaml_with("    coffee: 2", "    on: 2"),
     [f"earning.categories ({at('    coffee: 2', 5)})",
      'the key on is not read as text; quote it ("on")']),
    ("a number as a key", yaml_with("    beans-1kg: 3", "    1234: 3"),
     [f"earning.skus ({at('    beans-1kg: 3', 5)})",
      'the key 1234 is not read as text; quote it ("1234")']),
    ("hours as base 60", yaml_with('hours: "15:00-17:00"', "hours: 15:00"),
     [f"promotions[0].hours ({at('    hours:', 12)})",
      "15:00 is read by YAML as a number in base 60", 'quote it ("15:00")']),
    ("octal", yaml_with("min_spend_minor: 200", "min_spend_minor: 0200"),
     [f"earning.min_spend_minor ({at('min_spend_minor:', 20)})",
      "0200 is read by YAML as an octal number"]),
    ("a key twice", yaml_with("currency: EUR", "currency: EUR\ncurrency: USD"),
     [f"currency ({at('currency:', 1, 1)}): the key appears twice (first on line"
      f" {at('currency:')})"]),
    ("a nested key twice", yaml_with("    coffee: 2", "    coffee: 2\n    coffee: 3"),
     [f"earning.categories.coffee ({at('    coffee: 2', 5, 1)}): the key appears twice"]),
    ("an alias", "version: 2\nname: &n Shop\ncurrency: EUR\ntiers:\n- id: a\n  name: *n\n"
     "  min_points: 5\n", ["tiers[0].name: aliases (*name) are not supported",
                         "the value anchored at line 2, column 7"]),
    ("a merge key", "base: &b {min_points: 5}\ntiers:\n- <<: *b\n  id: a\n",
     ["tiers[0] (line 3, column 3): merge keys (<<) are not supported"]),
    ("no value", yaml_with("name: Bean There Rewards", "name:"),
     [f"name ({at('name: Bean', 6)}): no value"]),
    ("~ as a value", yaml_with("currency: EUR", "currency: ~"),
     [f"currency ({at('currency:', 11)}): no value"]),
    ("not a date", yaml_with("from: 2026-03-01", "from: 2026-02-30"),
     [f"promotions[1].from ({at('from:', 11)}): 2026-02-30 is not a date"]),
    ("NaN", yaml_with("multiplier: 1.25", "multiplier: .nan"),
     [f"tiers[0].multiplier ({at('multiplier: 1.25', 17)})", ".nan is not a usable number"]),
    ("infinity", yaml_with("multiplier: 1.25", "multiplier: -.inf"),
     ["-.inf is not a usable number"]),
    ("a binary tag", yaml_with("name: Bean There Rewards", "name: !!binary aGVsbG8="),
     [f"name ({at('name: Bean', 7)})", "the tag !!binary is not supported"]),
    ("a python tag", yaml_with("name: Bean There Rewards", "name: !!python/name:os.system"),
     ["the tag !!python/name:os.system is not supported"]),
    ("a set", yaml_with("tiers: [gold]", "tiers: !!set {gold}"),
     [f"rewards[2].tiers ({at('tiers: [gold]', 12)})", "the tag !!set is not supported"]),
]


@pytest.mark.parametrize("what, text, words", TRAPS, ids=[t[0] for t in TRAPS])
def test_yaml_traps_and_syntax_errors_are_named(tmp_path, what, text, words):
    message = refusal(tmp_path, "shop.yaml", text)
    for w in words:
        assert w in message, message


# Unquoted forms that YAML reads as the text that was meant are accepted.
FINE = [
    ("hours: 15:00-17:00", yaml_with('hours: "15:00-17:00"', "hours: 15:00-17:00")),
    ("quoted yes", yaml_with("name: Bean There Rewards", 'name: "yes"')),
    ("dates as strings", yaml_with("from: 2026-03-01", 'from: "2026-03-01"')),
    ("True for true", yaml_with("allow_unverified_uid: true", "allow_unverified_uid: True")),
    ("flow style", yaml_with("  categories:                    # multipliers by the basket"
                             " item's category\n    coffee: 2\n    tobacco: 0                 "
                             "  # earns nothing\n", "  categories: {coffee: 2, tobacco: 0}\n")),
]


@pytest.mark.parametrize("what, text", FINE, ids=[f[0] for f in FINE])
def test_forms_yaml_reads_as_meant_are_accepted(tmp_path, what, text):
    body = load_text(tmp_path, "shop.yaml", text)
    expected = load_file(TOML)
    if what == "quoted yes":
        expected = {**expected, "name": "yes"}
    assert body == expected
