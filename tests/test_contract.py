"""The published contract matches the code: the AsyncAPI file is what mqtt.asyncapi generates, and
every example a POS integrator would paste from docs/pos-integration.md passes its schema."""

import json
import re
from pathlib import Path

from mqtt import asyncapi, messages

DOCS = Path(__file__).parent.parent / "docs"


def test_asyncapi_file_is_generated_from_the_code():
    committed = json.loads((DOCS / "asyncapi.json").read_text())
    assert committed == asyncapi.document(), "run: .venv/bin/python -m mqtt.asyncapi > docs/asyncapi.json"
    for name, msg in committed["components"]["messages"].items():
        ref = msg["payload"].get("$ref")
        if ref:
            assert (DOCS / ref).resolve().exists(), name


def test_pos_integration_examples_pass_their_schemas():
    text = (DOCS / "pos-integration.md").read_text()
    pubs = re.findall(r"-t (\S+) -m '([^']+)'", text)
    assert len(pubs) >= 4
    for topic, payload in pubs:
        assert messages.decode(topic.rsplit("/", 1)[-1], payload)
    blocks = re.findall(r"```json\n(.*?)```", text, re.S)
    decoded = [json.loads(b) for b in blocks]
    assert messages.validate("member", decoded[0]) and messages.validate("redemption", decoded[1])
