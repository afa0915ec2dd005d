"""Tests import the private broker from here; it lives in the package for the demo and `kiosk sim`."""

from simulation.local_broker import Mosquitto, free_port, mosquitto_binary

__all__ = ["Mosquitto", "free_port", "mosquitto_binary"]
