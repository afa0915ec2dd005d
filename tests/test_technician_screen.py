"""The technician screen says which link is down: the shop's uplink (the store broker is up,
its bridge to the ledger's broker is not) or the kiosk's own broker. A real Mosquitto; the
uplink state is the retained 0/1 that Mosquitto's bridge notifications publish."""

from drivers.base import ButtonPressed
from mqtt import topics
from mqtt.client import MqttLink
from simulation.scenario import wait_for
from simulation.simulated_kiosk import SimulatedKiosk, sim_config


def test_technician_screen_tells_uplink_offline_from_broker_offline(broker, tmp_path):
    kiosk = SimulatedKiosk(sim_config(broker.port, tmp_path)).start()
    bridge = MqttLink(host=broker.host, port=broker.port, client_id="test-bridge-notice")
    bridge.start()
    try:
        assert bridge.wait_connected(10) and wait_for(lambda: kiosk.online, 10)
        # A long press (5 s on the pins; test_gpio covers that path) opens the screen.
        kiosk.app.events.put(ButtonPressed("select", held=True))
        assert wait_for(lambda: "Broker online" in kiosk.screen_text(), 10), kiosk.screen_text()

        bridge.publish(topics.uplink("store-1"), b"0", 1, retain=True)  # the bridge went down
        assert wait_for(lambda: "Uplink offline" in kiosk.screen_text(), 10), kiosk.screen_text()
        assert "Broker offline" not in kiosk.screen_text()

        bridge.publish(topics.uplink("store-1"), b"1", 1, retain=True)
        assert wait_for(lambda: "Broker online" in kiosk.screen_text(), 10), kiosk.screen_text()

        bridge.stop()
        broker.stop()  # the kiosk's own broker is gone
        assert wait_for(lambda: "Broker offline" in kiosk.screen_text(), 15), kiosk.screen_text()
    finally:
        bridge.stop()
        kiosk.stop()
