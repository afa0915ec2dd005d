"""NTAG 424 DNA SUN verification for the readers: it lives in codes.sun, because the ledger
checks the same messages (the kiosk forwards them); re-exported here for the drivers."""

from codes.sun import (
    REASONS,
    CounterGuard,
    SunError,
    SunKeys,
    SunParams,
    SunResult,
    decrypt_file_data,
    decrypt_picc,
    diversify_an10922,
    make_sun_url,
    sdm_mac,
    session_keys,
    sun_proof,
    verify_sun_proof,
    verify_sun_url,
)

__all__ = ["REASONS", "CounterGuard", "SunError", "SunKeys", "SunParams", "SunResult",
           "decrypt_file_data", "decrypt_picc", "diversify_an10922", "make_sun_url", "sdm_mac",
           "session_keys", "sun_proof", "verify_sun_proof", "verify_sun_url"]
