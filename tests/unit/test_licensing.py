"""Licences and sharing levels (issue 15 §1): what a source may say, and what derived data inherits."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from agents.ocpi.config import load_operators
from citiesincharge.licensing import DataPolicy, Licence, combined, most_restrictive


def test_spdx_ids_are_checked_and_normalised() -> None:
    assert Licence(id="cc-by-4.0").id == "CC-BY-4.0"
    assert Licence(id="OGL-UK-3.0").id == "OGL-UK-3.0"
    with pytest.raises(ValidationError, match="not an SPDX licence id"):
        Licence(id="CC-BY-5.0")
    with pytest.raises(ValidationError, match="not an SPDX licence id"):
        Licence(id="CC-BY-4.0 OR MIT")  # one licence per source, not an expression
    with pytest.raises(ValidationError, match="needs its name"):
        Licence(id="LicenseRef-agreement")
    assert Licence(id="LicenseRef-agreement", name="Data sharing agreement 2026").id == "LicenseRef-agreement"


def test_nothing_is_public_unless_someone_said_so() -> None:
    policy = DataPolicy()
    assert policy.licence.id == "LicenseRef-unspecified"
    assert {policy.access(kind) for kind in ("locations", "tariffs", "sessions", "cdrs", "kpis")} == {"council"}
    stamped = policy.stamp({"id": "x", "type": "EVSE"}, "locations")
    assert stamped["license"]["value"] == "LicenseRef-unspecified" and stamped["dataAccess"]["value"] == "council"


def test_derived_data_takes_the_most_restrictive_level_and_every_licence() -> None:
    assert most_restrictive([]) == "public"
    assert most_restrictive(["public", "council"]) == "council"
    assert most_restrictive(["public", "operator", "council"]) == "operator"
    assert most_restrictive(["public", "secret"]) == "operator"  # unknown: the most restrictive
    assert combined(["ODbL-1.0", "CC-BY-4.0", "CC-BY-4.0 AND ODbL-1.0"]) == "CC-BY-4.0 AND ODbL-1.0"
    assert combined([]) == "LicenseRef-unspecified"


def test_the_demo_operators_file_configures_each_operators_terms() -> None:
    from agents.ocpi.config import default_operators_file

    operators = {op.name: op.policy for op in load_operators(default_operators_file())}
    assert operators["cpoA"].licence.id == "CC-BY-4.0" and operators["cpoA"].access("cdrs") == "operator"
    assert operators["cpoC"].licence.id.startswith("LicenseRef-") and operators["cpoC"].licence.name
    assert all(policy.access("locations") == "public" for policy in operators.values())
