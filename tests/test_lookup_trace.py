"""The lookup trace benchmark (bench/bench_lookup_trace.py) runs and names every hop.

No timing is asserted (a benchmark's job); what is checked is that each of the seven hops has a
row in both tables, filled from complete taps, and that the bridge carries lookup replies at
QoS 0 as shipped and at QoS 1 in the comparison.
"""

from __future__ import annotations

import re

from bench import bench_lookup_trace as trace
from simulation.local_broker import bridge_conf

TAPS = 6
ENOUGH = 3  # a tap whose reply took over 5 s on a loaded CI machine is left out, as in the bench


def test_the_trace_has_one_row_per_hop_in_each_table():
    text = trace.run(taps=TAPS)
    tables = re.findall(r"(?ms)^\| hop \|.*?(?=^$)", text)
    assert len(tables) == 2, text
    for table in tables:
        rows = [line for line in table.splitlines()[2:] if line.startswith("| ")]
        assert [row.split(" | ")[0].lstrip("| ") for row in rows] == [
            what for _, what in trace.HOPS
        ], table
        for row in rows:
            figures = row.rstrip(" |").split(" | ")[1:]
            assert all(re.fullmatch(r"-?\d+\.\d\d", f) for f in figures), row
    counts = [int(n) for n in re.findall(r"\), (\d+) complete taps", text)]
    assert len(counts) == 2 and all(ENOUGH <= n <= TAPS for n in counts), text


def test_lookup_replies_cross_the_bridge_at_qos_0_and_the_rest_as_before():
    conf = bridge_conf("store-1", "127.0.0.1", 1883)
    assert "topic loyalty/v1/stores/store-1/kiosks/+/lookup-reply in 0" in conf
    assert "topic loyalty/v1/stores/store-1/kiosks/+/acks in 1" in conf
    assert "topic loyalty/v1/stores/store-1/kiosks/+/lookup out 1" in conf
    old = bridge_conf("store-1", "127.0.0.1", 1883, reply_qos=1)
    assert "topic loyalty/v1/stores/store-1/kiosks/+/lookup-reply in 1" in old
