"""Orion-LD for the test suite via testcontainers, where a Docker engine is usable.

``CIC_TEST_BROKER=orion make test`` runs the whole suite against a throw-away Orion-LD (+ MongoDB);
``tests/integration/test_orion_ld.py`` always tries a smoke run and is skipped, with the reason,
where Docker is not there (as on the development machines of this project).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import requests

from tests.support import wait_until

ORION_IMAGE = "fiware/orion-ld:1.6.0"
MONGO_IMAGE = "mongo:6.0"


def docker_unavailable_reason() -> str | None:
    """None when containers can be started here, else why not (in words for the skip message)."""
    try:
        from testcontainers.core.container import DockerContainer  # noqa: F401

        import docker
    except ImportError:
        return "testcontainers is not installed (pip install -e '.[dev]')"
    try:
        docker.from_env().ping()
    except Exception as error:  # docker raises several types for 'no engine'
        return f"no usable Docker engine on this machine ({type(error).__name__})"
    return None


@contextmanager
def orion_ld() -> Iterator[str]:
    """Start MongoDB + Orion-LD (multi-tenant) and yield Orion-LD's base URL."""
    from testcontainers.core.container import DockerContainer
    from testcontainers.core.network import Network

    with Network() as network:
        mongo = (DockerContainer(MONGO_IMAGE).with_network(network).with_network_aliases("mongo")
                 .with_command("--nojournal"))
        with mongo:
            orion = (DockerContainer(ORION_IMAGE).with_network(network).with_exposed_ports(1026)
                     .with_env("ORIONLD_MULTI_SERVICE", "TRUE").with_command("-dbhost mongo -logLevel WARN"))
            with orion:
                url = f"http://{orion.get_container_host_ip()}:{orion.get_exposed_port(1026)}"

                def up() -> bool:
                    try:
                        return requests.get(url + "/version", timeout=1).ok
                    except requests.RequestException:
                        return False

                wait_until(up, timeout=120, interval=0.5)
                yield url
