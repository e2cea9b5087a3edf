"""Subscription specs: one YAML file per worker (subscriptions/specs/<worker>.yaml).

A spec says *what* a worker wants to hear about (entity types, watched attributes, q, attributes,
throttling); the registrar turns it into NGSI-LD subscriptions pointing at the receiver.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field


class SubscriptionSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(pattern=r"^[a-z0-9-]{1,40}$")
    entities: list[dict[str, str]] = Field(min_length=1)
    watchedAttributes: list[str] | None = None
    q: str | None = None
    throttling: float | None = None
    notification: dict[str, Any] = Field(default_factory=dict)


class WorkerSpecs(BaseModel):
    model_config = ConfigDict(extra="forbid")
    worker: str = Field(pattern=r"^[a-z0-9-]{1,40}$")
    subscriptions: list[SubscriptionSpec] = Field(min_length=1)


@cache
def load_specs(worker: str) -> WorkerSpecs:
    text = resources.files("subscriptions").joinpath("specs", f"{worker}.yaml").read_text("utf-8")
    specs = WorkerSpecs.model_validate(yaml.safe_load(text))
    if specs.worker != worker:
        raise ValueError(f"specs/{worker}.yaml declares worker {specs.worker!r}")
    return specs


def subscription_id(worker: str, name: str) -> str:
    """Deterministic ids make registration idempotent and let the registrar find what it owns."""
    return f"urn:ngsi-ld:Subscription:cic:{worker}:{name}"
