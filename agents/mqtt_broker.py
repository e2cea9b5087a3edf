"""``cic mqtt``: an MQTT broker for the demo, so that it needs nothing installed by hand.

Mosquitto when its binary is on the machine (MQTT 5, persistence, shared subscriptions); else the
pure-Python amqtt broker (MQTT 3.1.1 only, which the agents then speak). Production runs
Mosquitto from compose.yaml. Binds 127.0.0.1. The process becomes the broker (exec), so that
stopping it stops the broker.
"""

from __future__ import annotations

import getpass
import os
import shutil
import sys
from pathlib import Path


def embedded_protocol() -> str:
    """The MQTT protocol version the demo's broker will speak on this machine."""
    return "5" if shutil.which("mosquitto") else "3.1.1"


def serve(port: int, data_dir: Path) -> None:
    folder = data_dir / "mqtt"
    folder.mkdir(parents=True, exist_ok=True)
    mosquitto = shutil.which("mosquitto")
    if mosquitto:
        conf = folder / "mosquitto.conf"
        # run as whoever started the demo (as root, Mosquitto would switch to a user that may not write the
        # data dir); log only errors (not every client's connect, nor its banner)
        conf.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence true\n"
                        f"persistence_location {folder.resolve()}/\nmax_queued_messages 100000\n"
                        f"user {getpass.getuser()}\nlog_type error\nconnection_messages false\n")
        os.execv(mosquitto, [mosquitto, "-c", str(conf)])
    conf = folder / "amqtt.yaml"
    conf.write_text(f"listeners:\n  default:\n    type: tcp\n    bind: 127.0.0.1:{port}\nplugins:\n"
                    f"  amqtt.plugins.authentication.AnonymousAuthPlugin:\n    allow_anonymous: true\n")
    script = Path(sys.executable).with_name("amqtt")
    os.execv(str(script), [str(script), "-c", str(conf)])
