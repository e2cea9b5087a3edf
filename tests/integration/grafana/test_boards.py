"""The Grafana provisioning files, checked offline: no Grafana runs on these machines.

Every board is valid for Grafana 11.3's dashboard model as far as tests/integration/grafana/model.py
describes it, refers to the provisioned Infinity data sources, and is what docker/grafana/dashboards.py
writes; compose.yaml installs the Infinity plugin and gives Grafana the settings the files expand.
"""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

from .model import Dashboard

ROOT = Path(__file__).resolve().parents[3]
GRAFANA = ROOT / "docker" / "grafana"
PROVISIONING = GRAFANA / "provisioning"
BOARDS = sorted((PROVISIONING / "dashboards" / "citiesincharge").glob("*.json"))
EXPECTED = {"overview.json", "reliability.json", "blocked-bays.json", "demand.json", "energy-revenue.json"}


def generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("cic_grafana_dashboards", GRAFANA / "dashboards.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def datasources() -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for path in sorted((PROVISIONING / "datasources").glob("*.yaml")):
        found += yaml.safe_load(path.read_text())["datasources"]
    return found


def test_the_five_boards_are_there_and_up_to_date() -> None:
    assert {p.name for p in BOARDS} == EXPECTED
    rendered = generator().render()
    for path in BOARDS:
        assert path.read_text() == rendered[path.name], f"{path.name} is stale: run python docker/grafana/dashboards.py"


@pytest.mark.parametrize("path", BOARDS, ids=lambda p: p.stem)
def test_board_is_valid_for_grafana_11(path: Path) -> None:
    board = Dashboard.model_validate(json.loads(path.read_text()))
    assert board.timezone == "Europe/London"  # times people read are the council's
    provisioned = {d["uid"] for d in datasources() if d["type"] == "yesoreyeram-infinity-datasource"}
    for item in board.panels:
        for target in item.targets:
            assert target.datasource.uid in provisioned, (item.title, target.datasource.uid)
        # what the panel reads (overrides, transformations, geomap fields) exists in its queries' columns
        columns = {c.selector for t in item.targets for c in t.columns}
        for override in item.fieldConfig.overrides:
            assert override.matcher["options"] in columns | _matrix_fields(item.model_dump()), (item.title, override)
        for step in item.transformations:
            for key in ("byField", "columnField", "rowField", "valueField"):
                if key in step.options:
                    assert step.options[key] in columns, (item.title, step.options)
            for name in step.options.get("excludeByName", {}):
                assert name in columns, (item.title, name)
        for layer in item.options.get("layers", []):
            for key in ("latitude", "longitude"):
                assert layer["location"][key] in columns, (item.title, layer["location"])
            assert layer["config"]["style"]["color"]["field"] in columns
    for variable in board.templating.list:
        assert variable.datasource.uid in provisioned


def _matrix_fields(panel: dict[str, Any]) -> set[str]:
    return {"month\\operator"} if any(t["id"] == "groupingToMatrix" for t in panel["transformations"]) else set()


@pytest.mark.parametrize("path", BOARDS, ids=lambda p: p.stem)
def test_uids_are_unique_and_queries_keep_to_the_conventions(path: Path) -> None:
    uids = [json.loads(p.read_text())["uid"] for p in BOARDS]
    assert len(set(uids)) == len(uids)
    board = json.loads(path.read_text())
    variables = {v["name"] for v in board["templating"]["list"]}
    targets = [t for p in board["panels"] for t in p["targets"]] + [
        v["query"]["infinityQuery"] for v in board["templating"]["list"]]
    for target in targets:
        root = target["root_selector"]
        for name in variables:  # a dashboard variable inside JSONata only as a quoted value
            assert re.search(rf"(?<!')\${name}\b", root) is None, (name, root)
        params = {p["key"]: p["value"] for p in target["url_options"]["params"]}
        assert params.get("limit") == "1000", target["url"]  # NGSI-LD's default page is 20
        if "temporal" in target["url"]:
            assert params.get("attrs") == "kpiValue" and params.get("options") == "sysAttrs", params
    assert "operator" in variables


def test_datasources_and_compose_fit_together() -> None:
    sources = {d["uid"]: d for d in datasources()}
    entities, temporal = sources["cic-ngsi-ld"], sources["cic-ngsi-ld-temporal"]
    assert entities["url"] == "${CIC_BROKER_URL}" and temporal["url"] == "${CIC_TEMPORAL_URL}"
    for source in (entities, temporal):
        assert source["jsonData"]["httpHeaderName1"] == "Link"
        link = source["secureJsonData"]["httpHeaderValue1"]
        assert link == '<${CIC_CONTEXT_URL}>; rel="http://www.w3.org/ns/json-ld#context"; type="application/ld+json"'
        assert source["jsonData"]["allowedHosts"] == [source["url"]]
    assert sources["cic-troe"]["type"] == "postgres"  # the TRoE tables stay reachable for ad-hoc SQL
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    grafana = compose["services"]["grafana"]
    env = grafana["environment"]
    assert grafana["image"] == "grafana/grafana:11.3.0"
    plugin, version = env["GF_INSTALL_PLUGINS"].split()
    assert plugin == "yesoreyeram-infinity-datasource"
    major, minor, _patch = (int(n) for n in version.split("."))
    assert (major, minor) >= (2, 4)  # pinned; 2.4+ interpolates variables in the backend parser's root selector
    assert env["CIC_BROKER_URL"] == "http://orion:1026" and env["CIC_TEMPORAL_URL"] == "http://mintaka:8080"
    assert env["CIC_CONTEXT_URL"] == "http://cic-context:8088/citiesincharge.jsonld"
    assert {"orion", "mintaka", "cic-context"} <= set(grafana["depends_on"])
    assert "./docker/grafana/provisioning:/etc/grafana/provisioning:ro" in grafana["volumes"]
    provider = yaml.safe_load((PROVISIONING / "dashboards" / "citiesincharge.yaml").read_text())["providers"][0]
    assert provider["options"]["path"] == "/etc/grafana/provisioning/dashboards/citiesincharge"
    assert provider["type"] == "file"
