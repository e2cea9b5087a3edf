"""Southbound agents (OCPI poller, MQTT parking ingest) and what they share: the agent database,
the durable outbox and the quarantine (dead-letter) store."""
