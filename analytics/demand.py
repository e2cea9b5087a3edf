"""Demand & forecast: hourly utilisation now, and what demand will be.

Utilisation, per station, per operator (the town's areas) and for the whole network, for the
current local day: the share of charger time spent charging in each local hour (from the EVSE
status timelines) and the sessions started in each hour; written as KeyPerformanceIndicators whose
value is the 24-hour profile, one entity per subject, each day an instance of its history.

Forecasts, retrained on a schedule (APScheduler): sessions started per station, next 48 hours
hourly and next 8 weeks daily (the candidates of ``forecast_models`` and their combination, chosen
per series by a back-test over that horizon, as ``cic forecast`` does), and a VAR across operators
for the daily horizon; local hours and days of ``CIC_TIMEZONE``, holidays of ``CIC_HOLIDAYS_*``. Each forecast is a
``DemandForecast`` entity (project type) with validFrom/validTo, the values and their 90 %
interval, the chosen model and the back-test scores next to the baseline's.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
from apscheduler.schedulers.background import BackgroundScheduler

from citiesincharge import ids

from . import kpis
from .base import Context, Worker, attribute_value
from .clock import iso, parse
from .forecast_models import ModelFailed
from .forecasting import VAR_MIN_DAYS, Calendar, Forecast, better_of, demand_series, forecast, min_history, var_forecast
from .places import Places
from .reliability import insert
from .sessions_csv import load_driver

log = logging.getLogger(__name__)
MIN_HOURS = min_history("hourly")  # ~4 weeks: fitted and back-tested, or not written
MIN_DAYS = min_history("daily")
PROFILE_DAYS = 28  # past local days whose profiles are written once history has arrived: 4 of each weekday



class DemandWorker(Worker):
    name = "demand"

    def __init__(self, context: Context) -> None:
        super().__init__(context)
        self.sessions: dict[str, tuple[datetime, str, str]] = {}  # id -> (start, station, operator)
        self.timelines: dict[str, list[tuple[datetime, str]]] = defaultdict(list)
        self.evse_station: dict[str, tuple[str, str]] = {}  # EVSE -> (station, operator)
        self.forecasts_written = 0
        self._sessions_at_last_try = 0  # sessions known at the last training
        self._sessions_at_last_tick = 0
        self._past_profiles_written = False
        self._dirty = False
        self.kpis = kpis.Publisher.from_settings(context.settings)
        self.council = kpis.council_id(context.settings)
        self.names = kpis.Names(Places(context.client), self.council)
        # data time: a simulation at 60x retrains every 6 simulated hours, not every 15 simulated days
        minutes = context.settings.demand_retrain_minutes / max(1.0, context.clock.scale)
        driver = context.settings.demand_driver_file
        self.driver = load_driver(Path(driver)) if driver else None  # e.g. new EV registrations per month
        self.scheduler = BackgroundScheduler(job_defaults={"coalesce": True, "max_instances": 1})
        # retraining runs on the worker's own thread: the job only queues it there
        self.scheduler.add_job(lambda: context.timers.dispatch(self.retrain), "interval", minutes=minutes,
                               id="retrain")

    # -- inputs ------------------------------------------------------------------------------
    def backfill(self) -> None:
        client = self.ctx.client
        for entity in client.query_entities(type="ChargingSession",
                                            attrs=["startDateTime", "refEVChargingStation", "dataProvider"]):
            self.handle(entity)
        for entity in client.query_entities(type="EVSE", attrs=["status", "dataProvider", "refEVChargingStation"]):
            self.handle(entity)
        log.info("demand: back-filled %d sessions, %d chargers", len(self.sessions), len(self.evse_station))
        if not self.scheduler.running:
            self.scheduler.start()

    def handle(self, entity: dict[str, Any]) -> None:
        station = str(attribute_value(entity, "refEVChargingStation") or "")
        operator = str(attribute_value(entity, "dataProvider") or "")
        if entity["type"] == "ChargingSession":
            start = attribute_value(entity, "startDateTime")
            if start:
                moment = parse(str(start))
                self.sessions[entity["id"]] = (moment, station, operator)
                self.ctx.clock.observe(moment)
                self._dirty = True
        elif entity["type"] == "EVSE":
            status = entity.get("status")
            if station:
                self.evse_station[entity["id"]] = (station, operator)
            if isinstance(status, dict) and "observedAt" in status:
                moment = parse(status["observedAt"])
                if insert(self.timelines[entity["id"]], moment, str(status["value"])):
                    self.ctx.clock.observe(moment)
                    self._dirty = True

    # -- utilisation -------------------------------------------------------------------------
    def tick(self) -> None:
        self._retrain_after_backfill()
        now = self.ctx.clock.calendar_now()
        ended = self.kpis.expired(now)  # yesterday's profiles were provisional: finalise them
        if not self._dirty and not ended:
            self.ctx.write(self.kpis.release(now))
            return
        self._dirty = False
        today = kpis.period("daily", now, self.ctx.settings.zone())
        entities = []
        for day in ([today.previous()] if ended else []) + [today]:
            entities += self._profiles(day, now)
        self.ctx.write(self.kpis.offer(entities, now) + self.kpis.release(now))

    def _profiles(self, day: kpis.Period, now: datetime) -> list[dict[str, Any]]:
        """The day's profiles (hours of the council's local day) per station, operator and the network."""
        zone = self.ctx.settings.zone()
        until = min(now, day.end)
        Subject = tuple[kpis.Scope, str, str]  # (scope, subject id, operator)
        busy: dict[Subject, list[float]] = defaultdict(lambda: [0.0] * 24)
        known: dict[Subject, list[float]] = defaultdict(lambda: [0.0] * 24)
        for evse, timeline in self.timelines.items():
            station, operator = self.evse_station.get(evse, ("", ""))
            subjects = _subjects(station, operator, self.council)
            for index, (since, status) in enumerate(timeline):
                if status in ("UNKNOWN", "REMOVED", "PLANNED"):
                    continue
                end = timeline[index + 1][0] if index + 1 < len(timeline) else until
                for low, high, hour in _hours(max(since, day.start), min(end, until), zone):
                    seconds = (high - low).total_seconds()
                    for subject in subjects:
                        known[subject][hour] += seconds
                        if status == "CHARGING":
                            busy[subject][hour] += seconds
        started: dict[Subject, list[int]] = defaultdict(lambda: [0] * 24)
        for start, station, operator in self.sessions.values():
            if day.start <= start < until:
                for subject in _subjects(station, operator, self.council):
                    started[subject][start.astimezone(zone).hour] += 1
        entities = []
        for subject in sorted(set(known) | set(started)):
            shares = [round(b / k, 4) if k else None for b, k in zip(busy[subject], known[subject], strict=True)]
            entities.append(self._profile("hourlyUtilisation", subject, day, shares, now))
            entities.append(self._profile("hourlySessions", subject, day, started[subject], now))
        return entities

    def _profile(self, name: str, subject: tuple[kpis.Scope, str, str], day: kpis.Period, values: list[Any],
                 now: datetime) -> dict[str, Any]:
        scope, target, operator = subject
        label = self.names.of(target)
        what = {"hourlyUtilisation": "share of counted charger time spent charging",
                "hourlySessions": "sessions started"}[name]
        return kpis.kpi(name, target, scope, day, values, now=now, subject_name=label,
                        organization=operator if scope != "council" else None, formula=PROFILE_FORMULAS[name],
                        description=f"{kpis.TITLES[name]} of {label}: {what} in each hour of the local day "
                                    f"(index 0 = 00:00-01:00 {self.ctx.settings.timezone})",
                        aggregated=[{"entityType": "EVSE", "attrs": ["status"]}] if name == "hourlyUtilisation"
                        else [{"entityType": "ChargingSession", "attrs": ["startDateTime"]}])

    # -- forecasts ---------------------------------------------------------------------------
    def _retrain_after_backfill(self) -> None:
        """Retrain once a burst of history (an operator's first sync, weeks of sessions) has arrived.

        Training while it streams in would forecast from a part of it (the first demo forecasts
        were all zeros): wait until a tick brings no new sessions, then train if the history grew
        by a fifth since the last training. The schedule retrains as usual after that.
        """
        count = len(self.sessions)
        settled = count == self._sessions_at_last_tick
        self._sessions_at_last_tick = count
        if settled and count > self._sessions_at_last_try * 1.2 + 10:
            self._sessions_at_last_try = count
            self._write_past_profiles()
            self.retrain()

    def _write_past_profiles(self) -> None:
        """The profiles of the last :data:`PROFILE_DAYS` local days, once the back-fill has settled.

        Why: an hour x weekday heat map needs weeks, and the sessions' history is in the broker
        (13 weeks in the demo), but the tick only computes today. Utilisation before the first
        status seen stays unknown (null hours), sessions started are complete. Written oldest first,
        today last, so each KPI's current value stays today's.
        """
        if self._past_profiles_written:
            return
        self._past_profiles_written = True
        now = self.ctx.clock.calendar_now()
        day = kpis.period("daily", now, self.ctx.settings.zone())
        days = [day]
        for _ in range(PROFILE_DAYS):
            days.insert(0, days[0].previous())
        self.ctx.write([entity for d in days for entity in self._profiles(d, now)])

    def retrain(self) -> None:
        self._sessions_at_last_try = len(self.sessions)
        if not self.sessions:
            return
        settings = self.ctx.settings
        zone = settings.zone()
        calendar = Calendar(settings.holidays_country, settings.holidays_subdivision)
        frame = pd.DataFrame([{"start": pd.Timestamp(start), "station": station, "area": operator}
                              for start, station, operator in self.sessions.values() if station])
        frame["start"] = pd.to_datetime(frame["start"], utc=True).dt.tz_convert(zone)  # local hours and days
        now = pd.Timestamp(self.ctx.clock.calendar_now()).tz_convert(zone)
        hour, day = now.floor("h"), now.normalize()
        entities: list[dict[str, Any]] = []  # whole periods only: the current hour and day are not over
        hourly = demand_series(frame[frame["start"] < hour], "hourly", until=hour - pd.Timedelta(hours=1))
        daily = demand_series(frame[frame["start"] < day], "daily", until=day - pd.Timedelta(days=1))
        for station in hourly.columns:
            if len(hourly) >= MIN_HOURS:
                entities.append(self._entity(forecast(hourly[station], "hourly", name=station, exog=self.driver,
                                                      calendar=calendar), station))
            if len(daily) >= MIN_DAYS:
                entities.append(self._entity(forecast(daily[station], "daily", name=station, exog=self.driver,
                                                      calendar=calendar), station))
        areas = demand_series(frame[frame["start"] < day], "daily", by="area", until=day - pd.Timedelta(days=1))
        if areas.shape[1] >= 2 and len(areas) >= VAR_MIN_DAYS:
            try:
                for area, result in var_forecast(areas, calendar=calendar).items():
                    alone = forecast(areas[area], "daily", name=area, exog=self.driver, calendar=calendar)
                    entities.append(self._entity(better_of(result, alone), ids.organization(area), area=True))
            except ModelFailed as failure:
                log.warning("demand: no VAR across operators this time: %s", failure)
        if not entities:
            log.info("demand: %d hours of history, %d needed before forecasting", len(hourly), MIN_HOURS)
            return
        self.forecasts_written += len(entities)
        self.ctx.write(entities)
        log.info("demand: %d forecasts written", len(entities))

    def _entity(self, result: Forecast, subject: str, *, area: bool = False) -> dict[str, Any]:
        step = timedelta(hours=1) if result.resolution == "hourly" else timedelta(days=1)
        start = result.index[0].to_pydatetime()
        for note in result.notes:  # models left out or fallen back from: for whoever wonders why this one
            log.debug("demand: %s %s: %s", subject, result.resolution, note)
        entity: dict[str, Any] = {
            # one forecast per subject and resolution, whichever model won this time (no stale rivals)
            "id": ids.derived("DemandForecast", result.resolution, subject),
            "type": "DemandForecast",
            "measure": {"type": "Property", "value": "sessionsStarted"},
            "resolution": {"type": "Property", "value": "PT1H" if result.resolution == "hourly" else "P1D"},
            "validFrom": {"type": "Property", "value": iso(start)},
            "validTo": {"type": "Property", "value": iso(start + step * len(result.mean))},
            "forecastValues": {"type": "Property", "value": result.mean},
            "lowerBound": {"type": "Property", "value": result.lower},
            "upperBound": {"type": "Property", "value": result.upper},
            "intervalLevel": {"type": "Property", "value": 0.9},
            "model": {"type": "Property", "value": result.model},
            "backtest": {"type": "Property",
                         "value": {name: score.as_dict() for name, score in result.scores.items()}},
            "dateIssued": {"type": "Property", "value": iso(self.ctx.clock.now())},
        }
        relation = "refOrganization" if area else "refEVChargingStation"
        entity[relation] = {"type": "Relationship", "object": subject}
        return entity

    def close(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)

    def status(self) -> dict[str, Any]:
        return {"sessions": len(self.sessions), "chargers": len(self.timelines),
                "forecastsWritten": self.forecasts_written}


PROFILE_FORMULAS = {  # calculationFormula, as docs/KPIS.md states them
    "hourlyUtilisation": "per local hour h: CHARGING time / counted time of the chargers (UNKNOWN, REMOVED, "
                         "PLANNED not counted); null for an hour with no counted time",
    "hourlySessions": "per local hour h: number of ChargingSessions whose startDateTime falls in h",
}


def _subjects(station: str, operator: str, council: str) -> list[tuple[kpis.Scope, str, str]]:
    """What a charger or a session counts towards: its station, its operator, the whole network."""
    out: list[tuple[kpis.Scope, str, str]] = []
    if station:
        out.append(("station", station, operator))
    if operator:
        out.append(("operator", ids.organization(operator), operator))
    return [*out, ("council", council, "")]


def _hours(low: datetime, high: datetime, zone: ZoneInfo) -> Iterator[tuple[datetime, datetime, int]]:
    """[low, high) cut at the council's local hours: (from, to, local hour of day)."""
    moment = low
    while moment < high:
        local = moment.astimezone(zone)
        edge = min(high, local.replace(minute=0, second=0, microsecond=0).astimezone(UTC) + timedelta(hours=1))
        yield moment, edge, local.hour
        moment = edge
