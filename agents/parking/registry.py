"""The bay registry: which topics carry which vendor format, and which sensor watches which bay.

Sensors report a sensor id; the registry turns it into a bay (with its site, location, the EVSE it
serves, its heartbeat). Per-vendor differences stay in mapping files; the registry only says which
mapping reads which topic filter.
"""

from __future__ import annotations

from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml
from paho.mqtt.client import topic_matches_sub
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from citiesincharge import ids
from mappings.engine import Mapping, library

_MISS = object()


class Site(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str
    kind: Literal["OnStreetParking", "OffStreetParking"] = "OnStreetParking"
    name: str | None = None
    location: tuple[float, float]  # longitude, latitude
    category: list[str] = Field(default_factory=lambda: ["forElectricalCharging"])

    @property
    def entity_id(self) -> str:
        return ids.parking_site(self.id, self.kind)

    @property
    def spot_category(self) -> list[str]:
        return ["onStreet"] if self.kind == "OnStreetParking" else ["offStreet"]


class Bay(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str
    site: str
    sensor: str
    location: tuple[float, float]
    evse: str | None = None
    name: str | None = None
    heartbeat: float | None = Field(None, gt=0, description="seconds of silence before the bay is 'unknown'")


class SourceRule(BaseModel):
    model_config = ConfigDict(extra="forbid")
    topic: str
    mapping: str


class Registry(BaseModel):
    model_config = ConfigDict(extra="forbid")
    sources: list[SourceRule] = Field(min_length=1)
    heartbeat: float = Field(900, gt=0)
    sites: list[Site]
    bays: list[Bay]

    @model_validator(mode="after")
    def _consistent(self) -> Registry:
        site_ids = {s.id for s in self.sites}
        unknown = sorted({b.site for b in self.bays} - site_ids)
        if unknown:
            raise ValueError(f"bays refer to unknown sites {unknown}")
        sensors = [b.sensor for b in self.bays]
        if len(set(sensors)) != len(sensors):
            raise ValueError("a sensor is registered for two bays")
        mappings = library()
        missing = sorted({s.mapping for s in self.sources} - set(mappings))
        if missing:
            raise ValueError(f"sources name unknown mappings {missing}")
        return self

    @cached_property
    def by_sensor(self) -> dict[str, Bay]:
        return {b.sensor: b for b in self.bays}

    @cached_property
    def sites_by_id(self) -> dict[str, Site]:
        return {s.id: s for s in self.sites}

    @cached_property
    def bays_by_site(self) -> dict[str, list[Bay]]:
        grouped: dict[str, list[Bay]] = {}
        for bay in self.bays:
            grouped.setdefault(bay.site, []).append(bay)
        return grouped

    def mapping_for_topic(self, topic: str) -> Mapping | None:
        cached = self._topic_cache.get(topic, _MISS)
        if cached is not _MISS:
            return cached  # type: ignore[return-value]
        found = next((library()[rule.mapping] for rule in self.sources if topic_matches_sub(rule.topic, topic)), None)
        if len(self._topic_cache) < 100_000:  # one entry per sensor topic; bounded against topic floods
            self._topic_cache[topic] = found
        return found

    @cached_property
    def _topic_cache(self) -> dict[str, Mapping | None]:
        return {}

    def spot_id(self, bay: Bay) -> str:
        """The ParkingSpot id of a bay (computed once per bay)."""
        cached = self._spot_ids.get(bay.sensor)
        if cached is None:
            cached = self._spot_ids[bay.sensor] = ids.parking_spot(bay.site, bay.id)
        return cached

    @cached_property
    def _spot_ids(self) -> dict[str, str]:
        return {}

    def envelope_parts(self, bay: Bay) -> dict[str, Any]:
        """The registry side of a mapping envelope (``bay`` and ``site``)."""
        site = self.sites_by_id[bay.site]
        return {"bay": {"id": bay.id, "sensor": bay.sensor, "location": list(bay.location), "evse": bay.evse,
                        "name": bay.name},
                "site": {"id": site.id, "entity_id": site.entity_id, "spot_category": site.spot_category}}

    def heartbeat_of(self, bay: Bay) -> float:
        return bay.heartbeat or self.heartbeat


def default_registry_file() -> Path:
    return Path(str(resources.files("agents.parking").joinpath("bays.yaml")))


def load_registry(path: Path | None) -> Registry:
    path = path or default_registry_file()
    try:
        return Registry.model_validate(yaml.safe_load(path.read_text("utf-8")))
    except (OSError, yaml.YAMLError) as error:
        raise ValueError(f"cannot read bay registry {path}: {error}") from None
    except ValidationError as error:
        first = error.errors()[0]
        raise ValueError(f"bay registry {path}: {'.'.join(map(str, first['loc']))}: {first['msg']}") from None
