"""Tokens, card numbers and signed codes both sides read: token keys, member QR codes,
provisioning codes, signed config updates, and the Ed25519 key helpers they share."""
