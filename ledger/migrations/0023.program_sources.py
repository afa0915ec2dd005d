"""The text a program version was written in (TOML or YAML, comments and all), for the back
office's editor: the body in ``programs`` is what is signed and priced, this is what an owner
edits. A version loaded before has none; the editor then starts from its body."""

from yoyo import step

__depends__ = {"0022.automations"}

steps = [
    step("CREATE TABLE program_sources (version INTEGER PRIMARY KEY, format TEXT NOT NULL,"
         " text TEXT NOT NULL)",
         "DROP TABLE program_sources"),
]
