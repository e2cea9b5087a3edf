"""The conformance ratchet (tests/conformance_ratchet.py): drops fail naming the area and the
amount, rises pass with a reminder, --update only ever raises the record."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conformance_ratchet import compare, main, updated

RECORD = {"areas": {"common": 30, "jsonldcontext": 40}, "total": 70}


def summary(tmp_path: Path, **passed: int) -> Path:
    path = tmp_path / "summary.json"
    path.write_text(json.dumps({area: {"passed": n, "failed": 0, "failures": []} for area, n in passed.items()}))
    return path


def record(tmp_path: Path) -> Path:
    path = tmp_path / "passed.json"
    path.write_text(json.dumps(RECORD))
    return path


def test_a_drop_fails_and_says_where_and_by_how_much(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["--summary", str(summary(tmp_path, common=27, jsonldcontext=41)), "--record", str(record(tmp_path))])
    err = capsys.readouterr().err
    assert code == 1
    assert "common: 27 passed, 3 fewer than the recorded 30" in err
    assert "total: 68 passed, 2 fewer than the recorded 70" in err


def test_an_area_not_run_is_a_drop() -> None:
    assert compare(RECORD, {"common": 30}).drops[0].startswith("jsonldcontext: not run")


def test_a_rise_passes_with_a_reminder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["--summary", str(summary(tmp_path, common=31, jsonldcontext=40, temporal=9)),
                 "--record", str(record(tmp_path))])
    out = capsys.readouterr().out
    assert code == 0
    assert "common: 31 passed, 1 more" in out and "temporal: 9 passed (not in the record yet)" in out
    assert "--update" in out


def test_update_raises_but_never_lowers(tmp_path: Path) -> None:
    path = record(tmp_path)
    assert main(["--summary", str(summary(tmp_path, common=25, jsonldcontext=45)), "--record", str(path),
                 "--update"]) == 0
    assert json.loads(path.read_text()) == {"areas": {"common": 30, "jsonldcontext": 45}, "total": 75}
    assert updated({"areas": {}, "total": 0}, {"temporal": 3}) == {"areas": {"temporal": 3}, "total": 3}


def test_no_summary_is_a_usage_error(tmp_path: Path) -> None:
    assert main(["--summary", str(tmp_path / "none.json"), "--record", str(record(tmp_path))]) == 2


def test_the_readme_table_shows_the_record() -> None:
    """Raising the record means raising the README's figures with it (first word of a row = area)."""
    root = Path(__file__).resolve().parents[2]
    recorded = json.loads((root / "conformance" / "passed.json").read_text())
    readme = (root / "README.md").read_text()
    section = readme[readme.index("## NGSI-LD conformance"):]
    table = section[section.index("| area | passed |"):].split("\n\n")[0]
    shown = {row.split("|")[1].split()[0].strip("*"): int(row.split("|")[2].split("/")[0].strip(" *"))
             for row in table.splitlines()[2:]}
    assert shown == {**recorded["areas"], "all": recorded["total"]}
