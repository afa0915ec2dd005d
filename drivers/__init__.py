"""Hardware behind small interfaces: readers, QR inputs, buttons, LEDs, buzzer.

The kiosk core only sees the types in :mod:`drivers.base`; each real driver has a
simulated twin so the daemon runs on a laptop.
"""
