"""MQTT connections as every agent and simulator needs them: MQTT v5, TLS and credentials from
settings, automatic reconnect with backoff, and (for subscribers) a persistent session.

A persistent session (clean start off, a stable client id, a session expiry) is what makes the
MQTT broker keep QoS 1 messages for us while we are down; manual acknowledgement lets the agent
acknowledge a message only once it is stored durably, so a crash loses nothing either.
"""

from __future__ import annotations

import ssl
from urllib.parse import urlparse

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from citiesincharge.settings import Settings


def client(settings: Settings, client_id: str, *, persistent: bool = False, manual_ack: bool = False) -> mqtt.Client:
    """A configured (not yet connected) paho client; ``persistent``: keep our session on the broker."""
    where = urlparse(settings.mqtt_url)
    if where.scheme not in ("mqtt", "mqtts"):
        raise ValueError(f"CIC_MQTT_URL must start with mqtt:// or mqtts://, got {settings.mqtt_url!r}")
    if settings.mqtt_protocol == "5":
        paho = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5,
                           manual_ack=manual_ack)
    else:  # MQTT 3.1.1 decides the session kind when the client is made, not when it connects
        paho = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv311,
                           manual_ack=manual_ack, clean_session=not persistent)
    if where.scheme == "mqtts":
        paho.tls_set(ca_certs=str(settings.mqtt_ca_file) if settings.mqtt_ca_file else None,
                     cert_reqs=ssl.CERT_REQUIRED)
    username = where.username or settings.mqtt_username
    password = settings.mqtt_secret()
    if username:
        paho.username_pw_set(username, password.get_secret_value() if password else where.password)
    paho.reconnect_delay_set(min_delay=1, max_delay=30)
    paho.max_inflight_messages_set(1000)
    return paho


def connect(paho: mqtt.Client, settings: Settings, *, persistent: bool) -> None:
    """Start connecting in the background (loop_start): reconnects by itself, forever."""
    where = urlparse(settings.mqtt_url)
    host, port = where.hostname or "127.0.0.1", where.port or (8883 if where.scheme == "mqtts" else 1883)
    if settings.mqtt_protocol == "3.1.1":
        paho.connect_async(host, port, keepalive=30)
    else:
        properties = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        if persistent:
            properties.SessionExpiryInterval = settings.mqtt_session_expiry
            properties.ReceiveMaximum = 65535  # many unacknowledged messages in flight: we ack in batches
        paho.connect_async(host, port, keepalive=30, clean_start=not persistent, properties=properties)
    paho.loop_start()
