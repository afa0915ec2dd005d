"""MQTT contract v1: topic names, JSON Schemas, and the paho-mqtt client adapter."""
