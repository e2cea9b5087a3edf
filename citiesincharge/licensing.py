"""Data licences and sharing levels of each source, and the provenance every entity carries (issue 15 §1).

Why on every entity: an operator shares its data with the council under terms, and the terms travel
with the data — an integrator reading one EVSE from the broker, an export, a KPI built from three
operators, each must be able to say under which licence it holds it and who may see it, without a
side table. So each entity written from a source carries:
  * ``dataProvider`` (SDM): who it comes from (the operator, the sensor vendor, the council);
  * ``license`` (Dublin Core ``dct:license``): an SPDX licence expression — an SPDX id such as
    ``CC-BY-4.0``, ``OGL-UK-3.0``, ``ODbL-1.0``, or ``LicenseRef-<name>`` for a bespoke agreement;
  * ``dataAccess`` (project term): who may see it — ``public`` (anyone, the open-data feed),
    ``council`` (the council's officers), ``operator`` (the council and the operator itself only).

The level of an entity is its source's sharing policy for that kind of data (locations and status,
sessions, CDRs and revenue, tariffs, derived KPIs). The UK Public Charge Point Regulations 2023
make location, availability and prices open data; sessions and revenue are commercially sensitive.
A source with no policy configured shares nothing publicly (``council`` for every kind) under
``LicenseRef-unspecified``: openness is a decision someone takes, never a default.

Derived data (a KPI over several operators) takes the **most restrictive** level of what it was
computed from (``operator`` > ``council`` > ``public``) and the conjunction of their licences
(``CC-BY-4.0 AND ODbL-1.0``: every licence's terms apply, e.g. both attributions).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache
from typing import Any, Literal

from license_expression import Licensing, get_spdx_licensing
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Access = Literal["public", "council", "operator"]
Kind = Literal["locations", "sessions", "cdrs", "tariffs", "kpis"]
LEVELS: tuple[Access, ...] = ("public", "council", "operator")  # least to most restrictive
RESTRICTIVENESS: dict[str, int] = {level: rank for rank, level in enumerate(LEVELS)}
_REF = re.compile(r"^LicenseRef-[A-Za-z0-9.-]{1,64}$")
UNSPECIFIED = "LicenseRef-unspecified"


@cache
def _spdx() -> Licensing:
    return get_spdx_licensing()


class Licence(BaseModel):
    """A source's licence: an SPDX id, or ``LicenseRef-<name>`` for a bespoke agreement (which then
    needs a ``name``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    id: str = Field(description="SPDX licence id (CC-BY-4.0, OGL-UK-3.0, ODbL-1.0 ...) or LicenseRef-<name>")
    name: str | None = Field(None, max_length=200, description="the licence's or agreement's name")
    url: str | None = Field(None, max_length=500, description="where its text is")
    attribution: str | None = Field(None, max_length=500, description="the attribution its users must give")

    @field_validator("id")
    @classmethod
    def _known(cls, value: str) -> str:
        if _REF.match(value):
            return value
        info = _spdx().validate(value)
        if info.errors or not info.normalized_expression or " " in info.normalized_expression:
            raise ValueError(f"{value!r} is not an SPDX licence id (e.g. CC-BY-4.0, OGL-UK-3.0, ODbL-1.0); "
                             "a bespoke agreement is LicenseRef-<name> with a name")
        return str(info.normalized_expression)

    @model_validator(mode="after")
    def _named(self) -> Licence:
        if _REF.match(self.id) and self.id != UNSPECIFIED and not self.name:
            raise ValueError(f"licence {self.id}: a bespoke agreement needs its name")
        return self


class Sharing(BaseModel):
    """Who may see each kind of a source's data."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    locations: Access = Field("council", description="stations, EVSEs and their status")
    tariffs: Access = Field("council", description="prices")
    sessions: Access = Field("council", description="charging sessions")
    cdrs: Access = Field("council", description="charge detail records, revenue")
    kpis: Access = Field("council", description="the least restrictive level KPIs derived from this source "
                         "may have (a KPI is never more open than its inputs either)")


class DataPolicy(BaseModel):
    """A source's licence and sharing policy (an OCPI operator's, a sensor vendor's, an import's)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    licence: Licence = Licence(id=UNSPECIFIED, name="no licence configured: council use only")
    sharing: Sharing = Sharing()

    def access(self, kind: Kind) -> Access:
        level: Access = getattr(self.sharing, kind)
        return level

    def stamp(self, entity: dict[str, Any], kind: Kind) -> dict[str, Any]:
        """The entity with its ``license`` and ``dataAccess`` (a copy; the input is left alone)."""
        return {**entity, "license": {"type": "Property", "value": self.licence.id},
                "dataAccess": {"type": "Property", "value": self.access(kind)}}

    def organization_attributes(self) -> dict[str, Any]:
        """What the source's Organization entity says of its terms, for readers of the context."""
        licence = {k: v for k, v in self.licence.model_dump().items() if v is not None}
        return {"license": {"type": "Property", "value": self.licence.id},
                "licenceDetails": {"type": "Property", "value": licence},
                "dataSharing": {"type": "Property", "value": self.sharing.model_dump()}}


def most_restrictive(levels: Iterable[str]) -> Access:
    """The level of data derived from data of these levels (``public`` when there is none; an unknown
    level counts as the most restrictive)."""
    rank = max((RESTRICTIVENESS.get(level, len(LEVELS) - 1) for level in levels), default=0)
    return LEVELS[rank]


def combined(licences: Iterable[str]) -> str:
    """The licence expression of data derived from data under these: every licence applies (AND)."""
    ids = sorted({part for expression in licences for part in expression.split(" AND ") if part})
    return " AND ".join(ids) if ids else UNSPECIFIED
