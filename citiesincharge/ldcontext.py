"""The project @context: vendored files, their canonical URLs, and the one compound context.

Every component writes and queries with the same compound context so that a short name such as
``category`` always expands to the same IRI (see contexts/NOTICE.md for why that matters).
Nothing here touches the network: the canonical URLs map to files shipped in the package.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

CORE_CONTEXT_URL = "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.8.jsonld"
PROJECT_CONTEXT_PATH = "/ngsi-ld/contexts/citiesincharge.jsonld"

_SDM = "https://raw.githubusercontent.com/smart-data-models/dataModel.{}/master/context.jsonld"

#: canonical URL -> vendored file name; the broker preloads these so they resolve offline.
VENDORED_CONTEXTS: dict[str, str] = {
    CORE_CONTEXT_URL: "ngsi-ld-core-context-v1.8.jsonld",
    _SDM.format("Transportation"): "sdm-Transportation.jsonld",
    _SDM.format("Parking"): "sdm-Parking.jsonld",
    _SDM.format("Alert"): "sdm-Alert.jsonld",
    _SDM.format("KeyPerformanceIndicator"): "sdm-KeyPerformanceIndicator.jsonld",
}

#: Other published URLs of the NGSI-LD core context. Like Orion-LD, the broker treats them all as
#: its built-in core context: v1.8 is a superset of the earlier versions' terms, and the few terms
#: v1.9 adds fall back to the default @vocab.
CORE_CONTEXT_ALIASES = tuple(
    ["https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context.jsonld"]
    + [f"https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.{minor}.jsonld" for minor in (3, 4, 5, 6, 7, 9)]
)

#: layering order of the compound context, later files win on a clashing term (core is last).
_LAYERS = (
    "sdm-Transportation.jsonld",
    "sdm-KeyPerformanceIndicator.jsonld",
    "sdm-Alert.jsonld",
    "sdm-Parking.jsonld",
    "project-terms.jsonld",
)
#: terms that the SDM files redefine although they are JSON-LD keywords aliases or core terms.
_RESERVED = {"id", "type", "@vocab"}


@cache
def load_vendored(file_name: str) -> dict[str, Any]:
    """Return a vendored context document (``{"@context": ...}``) by file name."""
    text = resources.files("citiesincharge.contexts").joinpath(file_name).read_text("utf-8")
    doc: dict[str, Any] = json.loads(text)
    return doc


def _layer_terms() -> list[tuple[str, dict[str, Any]]]:
    return [(name, load_vendored(name)["@context"]) for name in _LAYERS]


@cache
def project_context_document() -> dict[str, Any]:
    """The compound project context: SDM subjects + project terms inline, then the core URL.

    Inline (rather than a list of SDM URLs) so that Orion-LD or any other broker can use it by
    fetching one file from the project, never from GitHub.
    """
    merged: dict[str, Any] = {}
    for _name, terms in _layer_terms():
        for term, definition in terms.items():
            if term not in _RESERVED:
                merged[term] = definition
    return {"@context": [merged, CORE_CONTEXT_URL]}


def term_clashes() -> dict[str, dict[str, str]]:
    """Terms that two SDM layers map to different IRIs: term -> {layer file: IRI}."""
    seen: dict[str, dict[str, str]] = {}
    for name, terms in _layer_terms():
        for term, definition in terms.items():
            if term in _RESERVED:
                continue
            iri = definition if isinstance(definition, str) else str(definition.get("@id"))
            seen.setdefault(term, {})[name] = iri
    return {t: layers for t, layers in seen.items() if len(set(layers.values())) > 1}


def project_context_url(broker_url: str) -> str:
    """Where a broker serves the project context (the embedded broker does; see compose for Orion)."""
    return broker_url.rstrip("/") + PROJECT_CONTEXT_PATH
