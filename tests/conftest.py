import pytest

from tests.mosquitto import Mosquitto


@pytest.fixture
def broker(tmp_path):
    """A private Mosquitto on a free port; tests call .stop()/.start() to cut the network."""
    b = Mosquitto(tmp_path / "broker")
    b.start()
    yield b
    b.stop()
