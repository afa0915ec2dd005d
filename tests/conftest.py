import pytest

from tests.mosquitto import Mosquitto


@pytest.fixture
def broker(tmp_path):
    """A private Mosquitto on a free port; tests call .stop()/.start() to cut the network."""
    b = Mosquitto(tmp_path / "broker")
    b.start()
    yield b
    b.stop()


@pytest.fixture(scope="session")
def pg_cluster():
    """One private PostgreSQL cluster for the session (initdb + pg_ctl in a temp dir)."""
    from simulation.local_postgres import LocalPostgres, pg_bin

    if pg_bin() is None:
        pytest.skip("PostgreSQL server binaries not installed (Debian package postgresql)")
    cluster = LocalPostgres(fsync=False).start()  # fsync off: durability is SQLite's test here
    yield cluster
    cluster.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def ledger_db(request, tmp_path) -> str:
    """Where a ledger test keeps its data: a SQLite file, or a fresh, upgraded PostgreSQL db."""
    if request.param == "sqlite":
        return str(tmp_path / "ledger.db")
    from ledger import db

    url = request.getfixturevalue("pg_cluster").database()
    db.upgrade(url)
    return url


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """pytest-playwright's browser: Debian's chromium, headless (no browser download)."""
    return {**browser_type_launch_args, "executable_path": "/usr/bin/chromium", "headless": True}
