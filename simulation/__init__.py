"""What exists to simulate, demonstrate and test, apart from what runs in a shop: private
brokers and PostgreSQL, the scenario runner, the simulated kiosk, the POS simulator, the demo and
the golden-image helpers. Only the kiosk's simulation commands (`kiosk sim`, `kiosk pos-sim`) and
the tests import it; it never imports from tests/ (import-linter contracts in setup.cfg)."""
