"""Southbound agents (OCPI poller, MQTT parking ingest); see ARCHITECTURE.md. Built in later issues."""
