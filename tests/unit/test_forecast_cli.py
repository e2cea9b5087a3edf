"""``cic forecast`` on exports as councils have them, and on exports as short as it accepts.

The demo's own export (three weeks) once gave ``seasonalNaive nan nan nan`` for every series: the
history threshold let through series too short for a single back-test fold. Real council exports
were refused whole at their first bad row, read dd/mm month-first and cut station names to 24
characters; each of these is checked here on a file written for the purpose.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analytics import forecast_cli
from analytics.forecasting import min_history
from citiesincharge import cli


def _export(path: Path, days: float, stations: int = 2, seed: int = 3) -> Path:
    rng = np.random.default_rng(seed)
    start = pd.Timestamp("2026-01-05T00:00:00Z")
    rows = []
    for hour in range(int(days * 24)):
        moment = start + pd.Timedelta(hours=hour)
        busy = 3.0 if 7 <= moment.hour < 20 else 0.5
        for station in range(stations):
            for _ in range(rng.poisson(busy)):
                rows.append({"start": (moment + pd.Timedelta(minutes=int(rng.integers(60)))).isoformat(),
                             "station": f"S{station}"})
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


@pytest.mark.parametrize("days", [21, min_history("hourly") / 24 + 1])
def test_every_printed_forecast_has_backtest_scores(tmp_path: Path, days: float,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    options = forecast_cli.Options(_export(tmp_path / "sessions.csv", days), resolutions=["hourly", "daily"])
    code = forecast_cli.run(options)
    out, err = capsys.readouterr()
    assert "nan" not in out
    if days < min_history("hourly") / 24:  # too short for anything: said so, nothing made up
        assert code == 2 and "needed" in err
    else:
        assert code == 0
        hourly = [line for line in out.splitlines() if line.startswith("S") and " hourly " in line]
        assert len(hourly) == 2 and all("not back-tested" not in line for line in hourly)


SITES = ("Canal Street Car Park 3rd Floor", "Canal Street Car Park 3rd Floor East", "***TEST SITE***", "Old Depot")


def _council_export(path: Path, days: int = 70, seed: int = 4) -> Path:
    """dd/mm/yyyy dates and times in separate columns, a Site column, and dirty rows among the good."""
    rng = np.random.default_rng(seed)
    lines = ["CP ID,Site,Start Date,Start Time,End Date,End Time,Total kWh"]
    for day in pd.date_range("2025-09-01", periods=days, freq="D"):
        for number, site in enumerate(SITES):
            if site == "Old Depot" and day >= pd.Timestamp("2025-09-10"):
                continue  # closed: a dead series
            for _ in range(rng.poisson(6 if day.day_of_week < 5 else 3)):
                begin = day + pd.Timedelta(minutes=int(rng.integers(6 * 60, 23 * 60)))
                end = begin + pd.Timedelta(minutes=int(rng.integers(20, 180)))
                lines.append(f"CP{number},{site},{begin:%d/%m/%Y},{begin:%H:%M},{end:%d/%m/%Y},{end:%H:%M},"
                             f"{rng.uniform(2, 30):.3f}")
    lines += ["CP0,Canal Street Car Park 3rd Floor,02/09/2025,10:00,02/09/2025,11:00,",
              "CP0,Canal Street Car Park 3rd Floor,03/09/2025,10:00,02/09/2025,11:00,-1394.711",
              "CP1,Canal Street Car Park 3rd Floor East,04/09/2025,10:00,01/01/1970,00:00,4.2", lines[1]]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_a_raw_council_export_forecasts_daily_kwh_per_site(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "forecast.json"
    options = forecast_cli.Options(_council_export(tmp_path / "export.csv"), resolutions=["daily"], measure="kwh",
                                   by="site", steps={"hourly": 48, "daily": 7}, out=out)
    assert forecast_cli.run(options) == 0
    printed = capsys.readouterr().out
    assert "dates day-first (dd/mm/yyyy), 2025-09-01 .. 2025-11-09 (Europe/London)" in printed
    for reason in ("empty kWh", "negative kWh", "placeholder end (before 1990)", "duplicate of an earlier row"):
        assert f"skipped 1 row: {reason}" in printed
    rows = {line.split(" daily ")[0].strip(): line for line in printed.splitlines() if " daily " in line}
    assert set(rows) == {"Canal Street Car Park 3rd Floor", "Canal Street Car Park 3rd Floor East",
                         "***TEST SITE*** [test site]", "Old Depot"}  # names in full, the test site flagged
    assert "n/a" in rows["Old Depot"]  # a dead series is not a perfect score
    document = json.loads(out.read_text(), parse_constant=lambda name: pytest.fail(f"{name} in the JSON"))
    forecasts = {f["series"]: f for f in document["forecasts"]}
    assert forecasts["***TEST SITE***"]["testSite"] and not forecasts["Old Depot"]["testSite"]
    assert forecasts["Old Depot"]["scores"]["seasonalNaive"]["mase"] is None
    assert all(len(f["forecast"]) == 7 for f in forecasts.values())
    assert document["load"]["skipped"]["negative kWh"]["rows"] == 1


def test_network_totals_leave_test_sites_out(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _council_export(tmp_path / "export.csv", days=45)
    options = forecast_cli.Options(path, resolutions=["daily"], by="network", steps={"hourly": 48, "daily": 7})
    assert forecast_cli.run(options) == 0
    printed = capsys.readouterr().out
    assert "test sites (flagged, left out of network totals): '***TEST SITE***'" in printed
    assert len([line for line in printed.splitlines() if line.startswith("network ")]) == 1


def test_the_command_line_settles_dates_and_names_a_bad_holiday_region(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                       capsys: pytest.CaptureFixture[str]) -> None:
    path = _council_export(tmp_path / "export.csv", days=45)
    # only days 1-12 of each month: every date fits dd/mm and mm/dd
    text = path.read_text().splitlines()
    ambiguous = [text[0]] + [line for line in text[1:] if int(line.split(",")[2][:2]) <= 12
                             and int(line.split(",")[4][:2]) <= 12]
    path.write_text("\n".join(ambiguous) + "\n")
    base = ["forecast", "--sessions", str(path), "--by", "network", "--horizon", "daily", "--days", "7"]
    assert cli.main(base) == 2
    assert "say which with --dayfirst or --monthfirst" in capsys.readouterr().err
    assert cli.main([*base, "--dayfirst"]) == 0
    assert "dates day-first (dd/mm/yyyy), 2025-09-01 .. 2025-10-12" in capsys.readouterr().out
    monkeypatch.setenv("CIC_HOLIDAYS_SUBDIVISION", "XX")
    assert cli.main(base) == 2
    assert "CIC_HOLIDAYS_SUBDIVISION='XX': Value error, GB has no subdivision 'XX'" in capsys.readouterr().err


def test_an_export_with_dates_only_gets_daily_forecasts_and_no_hourly_ones(tmp_path: Path,
                                                                         capsys: pytest.CaptureFixture[str]) -> None:
    rng = np.random.default_rng(8)
    days = pd.date_range("2025-09-01", periods=60, freq="D")
    rows = [f"{day:%Y-%m-%d},S1" for day in days for _ in range(rng.poisson(8))]
    path = tmp_path / "dates.csv"
    path.write_text("Date,Charger\n" + "\n".join(rows) + "\n")
    assert forecast_cli.run(forecast_cli.Options(path, steps={"hourly": 48, "daily": 7})) == 0
    printed = capsys.readouterr().out
    assert "skipped: hourly forecasts: the sessions have dates without times of day" in printed
    assert [line.split()[1] for line in printed.splitlines() if line.startswith("S1 ")] == ["daily"]
