"""Demand worker end to end: session history in the broker -> forecasts with back-test scores;
charger timelines -> hourly utilisation profiles."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np

from citiesincharge.client import NgsiLdClient
from tests.integration.analytics.conftest import ServiceFactory, at, evse
from tests.support import wait_until


def session_history(ngsi: NgsiLdClient, days: int) -> list[datetime]:
    rng = np.random.default_rng(5)
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    sessions = []
    for station in ("L1", "L2"):
        for hour in range(days * 24):
            moment = now - timedelta(hours=days * 24 - hour)
            rate = 0.3 + 1.2 * np.exp(-((moment.hour - 9) ** 2) / 6) + 0.9 * np.exp(-((moment.hour - 18) ** 2) / 5)
            for n in range(rng.poisson(rate)):
                start = moment + timedelta(minutes=int(rng.integers(0, 60)))
                sessions.append({"id": f"urn:ngsi-ld:ChargingSession:cpoT:{station}-{hour}-{n}",
                                 "type": "ChargingSession",
                                 "startDateTime": {"type": "Property", "value": start.strftime("%Y-%m-%dT%H:%M:%SZ")},
                                 "refEVChargingStation": {"type": "Relationship",
                                                          "object": f"urn:ngsi-ld:EVChargingStation:cpoT:{station}"},
                                 "dataProvider": {"type": "Property", "value": "cpoT"}})
    result = ngsi.batch_upsert(sessions)
    assert result.ok
    return [datetime.fromisoformat(s["startDateTime"]["value"]) for s in sessions]


def test_forecasts_from_session_history(start_analytics: ServiceFactory, ngsi: NgsiLdClient) -> None:
    starts = session_history(ngsi, 30)  # fitted and back-tested: min_history("hourly") is ~4 weeks
    start_analytics(["demand"])
    wait_until(lambda: ngsi.count_entities(type="DemandForecast") >= 2, timeout=60, interval=0.5)
    forecasts = {f["refEVChargingStation"]: f for f in ngsi.query_entities(type="DemandForecast",
                                                                          options="keyValues")}
    hourly = forecasts["urn:ngsi-ld:EVChargingStation:cpoT:L1"]
    assert hourly["resolution"] == "PT1H" and len(hourly["forecastValues"]) == 48
    assert all(lo <= v <= hi for lo, v, hi in zip(hourly["lowerBound"], hourly["forecastValues"],
                                                   hourly["upperBound"], strict=True))
    assert "seasonalNaive" in hourly["backtest"] and hourly["model"] in hourly["backtest"]
    assert hourly["validTo"] > hourly["validFrom"] > at(3600 * 2)
    assert hourly["backtest"][hourly["model"]]["mase"] <= hourly["backtest"]["seasonalNaive"]["mase"]

    # the profiles of the past 28 local days come with the history, not only today's
    profile = "urn:ngsi-ld:KeyPerformanceIndicator:hourlySessions:Organization:council:daily"
    days = ngsi.temporal_entity(profile, attrs=["kpiValue"], last_n=40)["kpiValue"]
    zone = ZoneInfo("Europe/London")
    by_day = {datetime.fromisoformat(d["observedAt"].replace("Z", "+00:00")).astimezone(zone).date()
              - timedelta(days=1): d["value"] for d in days}
    first = min(by_day)  # 28 past days, and today unless no session has started yet today
    assert sorted(by_day) == [first + timedelta(days=n) for n in range(len(by_day))] and len(by_day) in (28, 29)
    week_ago = max(by_day) - timedelta(days=7)
    expected = [0] * 24
    for start in starts:
        if (local := start.astimezone(zone)).date() == week_ago:
            expected[local.hour] += 1
    assert by_day[week_ago] == expected


def test_hourly_utilisation_profile(start_analytics: ServiceFactory, ngsi: NgsiLdClient) -> None:
    start_analytics(["demand"])
    ngsi.batch_upsert([{"id": "urn:ngsi-ld:EVSE:cpoT:E1", "type": "EVSE",
                        "refEVChargingStation": {"type": "Relationship",
                                                 "object": "urn:ngsi-ld:EVChargingStation:cpoT:L1"}}])
    evse(ngsi, "E1", "CHARGING", at(40))
    evse(ngsi, "E1", "AVAILABLE", at(20))
    evse(ngsi, "E1", "UNKNOWN", at(10))  # not counted: the share stops moving

    def profile() -> list[float | None] | None:
        found = [k for k in ngsi.query_entities(type="KeyPerformanceIndicator", options="keyValues",
                                                q='process=="hourlyUtilisation"') if "EVChargingStation" in k["id"]]
        return found[0]["kpiValue"] if found else None

    def current_share() -> float | None:
        shares = [v for v in profile() or [] if v is not None]
        return shares[-1] if shares else None

    # once all three changes are in: 20 s charging of the 30 s counted (UNKNOWN is not counted)
    wait_until(lambda: (share := current_share()) is not None and abs(share - 20 / 30) < 0.02, timeout=20)
