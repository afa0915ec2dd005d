"""What exists to simulate, demonstrate and test, apart from what runs in a shop: private
brokers and PostgreSQL, the scenario runner, the simulated kiosk, the POS simulator, the demo and
the golden-image helpers. Never imported by kiosk/, drivers/, display/ or ledger/ code that runs
in production paths, and never imports from tests/."""
