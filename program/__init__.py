"""The loyalty program engine both sides run: baskets, member state, rules, program files
(TOML/YAML) and signed program messages. The kiosk previews with it, the ledger decides with it.
No database, no network, no hardware."""
