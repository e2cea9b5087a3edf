"""The dashboard's reading of tariffs (dashboard/tariffs.py): its reference sessions are the agent's
and docs/TARIFFS.md's, the browser tests' scripted tariffs are exactly what the OCPI agent writes,
prices are compared incl. VAT only when every one has it, and a station's tariffs are found from
its connectors."""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

from dashboard import tariffs
from dashboard.directory import tariffs_of
from mappings.engine import mapping_for
from mappings.reference_prices import REFERENCE_SESSIONS
from tests.integration.dashboard import scenario

ROOT = Path(__file__).resolve().parents[2]


def test_the_sessions_are_the_agents_and_the_docs() -> None:
    assert [s.name for s in tariffs.REFERENCE_SESSIONS] == [s.name for s in REFERENCE_SESSIONS]
    text = (ROOT / "docs" / "TARIFFS.md").read_text()
    table = text.split("## Reference sessions", 1)[1].split("\n## ", 1)[0]
    documented = [row for row in re.findall(r"^\| `([a-z0-9-]+)` \| (.+?) \|$", table, re.M) if row[0] != "session"]
    assert documented == [(s.name, s.description) for s in tariffs.REFERENCE_SESSIONS]


def test_the_dashboard_reads_the_broker_only() -> None:
    for path in (ROOT / "dashboard").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import | ast.ImportFrom):
                names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
                assert not any(n == "mappings" or n.startswith("mappings.") for n in names), path


def _snake(name: str) -> str:
    return "".join("_" + c.lower() if c.isupper() else c for c in name)


def _ocpi(entity: dict[str, Any], version: str) -> dict[str, Any]:
    """The OCPI tariff record behind a scenario entity (its elements, type, dates and minimum price)."""
    kv = {k: v["value"] if isinstance(v, dict) and "value" in v else v for k, v in entity.items()}
    elements = [{_snake(k): [{_snake(a): b for a, b in c.items()} for c in v] if k == "priceComponents"
                 else {_snake(a): b for a, b in v.items()} for k, v in element.items()}
                for element in kv["tariffElements"]]
    record: dict[str, Any] = {"id": tariffs.key_of(entity["id"]).lower(), "currency": kv["currency"],
                              "elements": elements,
                              "last_updated": entity["referencePrices"]["observedAt"].replace(".000", "")}
    if version == "2.2.1":
        record.update(country_code="GB", party_id="AAA")
        for name, field in (("tariffType", "type"), ("validFrom", "start_date_time"), ("validTo", "end_date_time")):
            if name in kv:
                record[field] = kv[name].replace(".000", "")
        if "minPrice" in kv:
            record["min_price"] = {"excl_vat": kv["minPrice"]["exclVat"], "incl_vat": kv["minPrice"]["inclVat"]}
    return record


def test_the_scripted_tariffs_are_what_the_agent_writes() -> None:
    """The browser tests expect prices worked out by hand from scenario.TARIFFS; the agent's pricer
    gives the same figures (and summary prices, vatRate) for the same OCPI records."""
    for entity in scenario.tariffs():
        operator = entity["dataProvider"]["value"]
        version = "2.2.1" if operator == "cpoA" else "2.1.1"  # cpoB gives no VAT: OCPI 2.1.1
        written = mapping_for("ocpi", version, "Tariff").apply({"record": _ocpi(entity, version), "cpo": operator})
        assert written == entity


def price(excl: float, incl: float | None = None) -> tariffs.Price:
    return tariffs.Price(excl, incl, "GBP")


def test_a_range_is_incl_vat_only_when_every_price_is() -> None:
    dash = tariffs.DASH
    assert tariffs.range_cell([price(3.15, 3.78), price(5.0, 6.0)]) == f"3.78 {dash} 6.00"
    assert tariffs.range_cell([price(6.45, 7.74), price(13.59)]) == f"6.45 {dash} 13.59 excl. VAT"
    assert tariffs.range_cell([price(2.0, 2.4), price(2.0, 2.4)]) == "2.40"
    assert tariffs.range_cell([]) == "—"
    assert tariffs.price_cell(price(3.23)) == "3.23 excl. VAT"
    assert tariffs.limit_cell({"exclVat": 5.0}) == "5.00 excl. VAT"
    assert tariffs.limit_cell(None) == "—"


def test_a_tariff_without_optional_attributes() -> None:
    read = tariffs.tariff({"id": "urn:ngsi-ld:ChargingTariff:cpoB:CPOB%2FX", "type": "ChargingTariff",
                           "currency": {"type": "Property", "value": "EUR"},
                           "referencePrices": {"type": "Property", "value": [
                               {"session": "ac7-evening", "priceExclVat": 2, "currency": "EUR"},
                               {"session": "dc50-morning"}]}})
    assert read.key == "CPOB/X" and read.operator == "" and read.valid_from is None
    assert read.prices == {"ac7-evening": tariffs.Price(2.0, None, "EUR")}
    assert read.attributes["vatRate"] is None


def test_a_stations_tariffs_come_from_its_connectors() -> None:
    evse = {"id": "urn:ngsi-ld:EVSE:cpoB:B1-2", "type": "EVSE", "dataProvider": {"type": "Property", "value": "cpoB"},
            "connectors": {"type": "Property", "value": [{"id": "1", "tariffIds": ["CPOB-AC", "CPOB-NIGHT"]},
                                                         {"id": "2", "tariffIds": ["CPOB-AC"]}, {"id": "3"}]}}
    assert tariffs_of(evse) == ("urn:ngsi-ld:ChargingTariff:cpoB:CPOB-AC", "urn:ngsi-ld:ChargingTariff:cpoB:CPOB-NIGHT")
    assert tariffs_of({"id": "urn:ngsi-ld:EVSE:cpoB:B2-1"}) == ()
