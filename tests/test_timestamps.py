"""mqtt.timestamps: one timestamp format for the contract and the ledger's records."""

import datetime as dt
import time

from ledger import store
from mqtt.timestamps import iso, now_iso


def test_iso_is_utc_with_milliseconds():
    assert iso(1_767_225_600.25) == "2026-01-01T00:00:00.250+00:00"


def test_now_iso_reads_the_wall_clock():
    before = time.time()
    at = dt.datetime.fromisoformat(now_iso()).timestamp()
    assert before - 0.001 <= at <= time.time()


def test_the_ledger_stamps_its_records_the_same_way():
    assert store.now_iso is now_iso
