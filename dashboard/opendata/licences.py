"""Under which licence each piece of the feed is, and the attribution its users must give.

Why from the operators' ``Organization`` entities: the OCPI agent writes each operator's terms
there (``licenceDetails``: id, name, url, attribution; docs/LICENSING.md), so the feed reads them
over NGSI-LD like any integrator would. The licence of an item is its entity's own ``license``
(what it was shared under when written); name, url and attribution come from its provider's terms.
An SPDX licence without a configured url links to its page on spdx.org; a bespoke agreement
(``LicenseRef-…``) without one links to the feed's own ``/licences`` document.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel, ConfigDict

from .entities import value

SPDX_PAGE = "https://spdx.org/licenses/{}.html"


class Terms(BaseModel):
    """One provider's licence as a reader of the feed needs it."""

    model_config = ConfigDict(frozen=True)
    provider: str  # dataProvider, e.g. cpoA
    provider_name: str  # cpoA Charging Ltd
    license: str  # SPDX expression
    name: str | None = None
    url: str | None = None
    attribution: str


class LicenceGroup(BaseModel):
    """One licence of a response, with every provider whose data in it is under that licence."""

    license: str
    name: str | None
    url: str | None
    providers: list[str]
    attribution: list[str]


def default_url(licence: str) -> str | None:
    return None if licence.startswith("LicenseRef-") or " " in licence else SPDX_PAGE.format(licence)


def directory(organizations: Iterable[dict[str, Any]]) -> dict[str, Terms]:
    """Provider key -> its terms, from the Organization entities that carry terms."""
    out: dict[str, Terms] = {}
    for organization in organizations:
        details = value(organization, "licenceDetails")
        licence = value(organization, "license")
        if not isinstance(licence, str):
            continue
        details = details if isinstance(details, dict) else {}
        key = str(value(organization, "cpo") or organization["id"].rsplit(":", 1)[-1])
        name = str(value(organization, "name") or key)
        out[key] = Terms(provider=key, provider_name=name, license=licence, name=details.get("name"),
                         url=details.get("url") or default_url(licence),
                         attribution=details.get("attribution") or f"Contains data from {name}")
    return out


def terms_of(entity: dict[str, Any], known: dict[str, Terms]) -> Terms:
    """An entity's terms: its own ``license``, its provider's name, url and attribution (an entity
    written under an earlier licence keeps that licence; the other details then stay unknown)."""
    provider = str(value(entity, "dataProvider") or "unknown")
    licence = str(value(entity, "license") or "LicenseRef-unspecified")
    found = known.get(provider)
    if found is not None and found.license == licence:
        return found
    name = found.provider_name if found else provider
    return Terms(provider=provider, provider_name=name, license=licence, url=default_url(licence),
                 attribution=f"Contains data from {name}")


def groups(terms: Iterable[Terms]) -> list[LicenceGroup]:
    """The licences in a response, each with its providers and their attributions (sorted)."""
    by_licence: dict[str, list[Terms]] = {}
    for item in terms:
        by_licence.setdefault(item.license, [])
        if item not in by_licence[item.license]:
            by_licence[item.license].append(item)
    out = []
    for licence, items in sorted(by_licence.items()):
        items.sort(key=lambda t: t.provider)
        out.append(LicenceGroup(license=licence, name=next((t.name for t in items if t.name), None),
                                url=next((t.url for t in items if t.url), None),
                                providers=[t.provider for t in items], attribution=[t.attribution for t in items]))
    return out


def link_header(found: list[LicenceGroup], licences_url: str) -> str:
    """``Link`` values: ``rel="license"`` only when the whole response is under one licence (several
    license links would read as a choice between them, RFC 4946), and always ``rel="describedby"``
    to the feed's licences document, which says which provider's data is under what."""
    links = [f'<{licences_url}>; rel="describedby"; type="application/json"']
    if len(found) == 1:
        links.insert(0, f'<{found[0].url or licences_url}>; rel="license"')
    return ", ".join(links)


def expression(found: list[LicenceGroup]) -> str | None:
    """The response as a whole: every licence in it applies (``CC-BY-4.0 AND ODbL-1.0``), the rule
    docs/LICENSING.md sets for data combined from several sources; None for an empty response."""
    return " AND ".join(g.license for g in found) or None
