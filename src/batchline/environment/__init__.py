"""environment: rooms and their limits, readings over MQTT, alarms and excursions (issue 5)."""
