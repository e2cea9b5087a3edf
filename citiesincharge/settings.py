"""All configuration, from ``CIC_*`` environment variables (pydantic-settings) and CLI options.

One settings object for every component, so an operator sets ``CIC_BROKER_URL`` once and the
agents, workers and dashboard all follow. The README's configuration table lists these fields.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from . import ldcontext
from .secrets import resolve_secret
from .worldclock import WorldClock


class Settings(BaseSettings):
    """Every ``CIC_`` setting, with its default for the embedded, single-machine run."""

    model_config = SettingsConfigDict(env_prefix="CIC_", extra="ignore")

    # -- where the context broker is (client side) -------------------------------------------
    broker_url: str = Field("http://127.0.0.1:1026", description="NGSI-LD broker base URL (embedded or Orion-LD)")
    temporal_url: str | None = Field(
        None, description="temporal API base URL when another service serves it (Mintaka beside Orion-LD)")
    tenant: str | None = Field(None, description="NGSILD-Tenant to read and write (none = default tenant)")
    token: SecretStr | None = Field(None, description="bearer token sent to the broker")
    token_file: Path | None = Field(None, description="file holding the bearer token (re-read on change)")
    context_url: str | None = Field(
        None, description="project @context URL used in every request (default: served by the broker)")
    batch_size: int = Field(100, ge=1, le=1000, description="entities per batch request")
    http_timeout: float = Field(10.0, gt=0, description="client HTTP timeout, seconds")

    # -- embedded broker (server side) -------------------------------------------------------
    broker_host: str = Field("127.0.0.1", description="embedded broker bind address")
    broker_port: int = Field(1026, description="embedded broker port")
    data_dir: Path = Field(Path("data"), description="where SQLite files (broker, outboxes) live")
    broker_memory: bool = Field(False, description="embedded broker keeps everything in memory")
    broker_public_url: str | None = Field(
        None, description="URL clients use to reach the embedded broker (for its own @context URL)")
    broker_auth_token: SecretStr | None = Field(None, description="if set, the broker requires this bearer token")
    broker_auth_token_file: Path | None = Field(None, description="file holding the broker's required token")
    context_dir: Path | None = Field(
        None, description="directory with contexts.json ({url: file}) of @contexts to preload offline")
    context_fetch_timeout: float = Field(
        5.0, gt=0, description="total seconds one remote @context fetch may take (look-up to last byte)")
    context_allowed_hosts: str = Field(
        "uri.etsi.org,forge.etsi.org,smartdatamodels.org,raw.githubusercontent.com,"
        "smart-data-models.github.io,schema.lab.fiware.org,fiware.github.io",
        description="comma-separated hosts the broker may fetch a client's @context from "
        "(*.example.org: its sub-domains; *: any public host)")
    context_allow_private: bool = Field(
        False, description="also fetch @contexts from loopback, private, link-local and other non-public addresses")
    context_max_bytes: int = Field(
        1024 * 1024, gt=0, description="largest @context document fetched or added (POST /jsonldContexts)")
    context_cache_size: int = Field(256, ge=1, description="remote @context documents (and term maps) kept in memory")
    context_max_stored: int = Field(
        1000, ge=0, description="most @contexts clients may add (POST /jsonldContexts) or have implicitly created")
    max_body_bytes: int = Field(8 * 1024 * 1024, gt=0, description="largest request body the broker accepts")
    history_retention_days: float = Field(
        400, ge=0, description="days of attribute history the embedded broker keeps (13 months: a month and the "
        "same month last year; 0 keeps everything)")
    history_prune_seconds: float = Field(3600, gt=0, description="how often history older than that is pruned")
    temporal_instance_limit: int = Field(
        1000, ge=1, description="most instances of one attribute in one temporal response; more are paged (206 "
        "with Content-Range) and clients follow the pages. Each page runs the query again, so the default keeps "
        "the analytics' month-long reads to a page or two; the ETSI suite's paging tests are run with 19 (make "
        "conformance), as its README asks the broker under test to be configured")
    notify_workers: int = Field(4, ge=1, description="concurrent notification deliveries")
    query_workers: int = Field(2, ge=1, description="threads that run queries and big writes off the event "
                               "loop; more than the cores only adds contention for the GIL")
    broker_max_requests: int = Field(64, ge=1, description="embedded broker: requests of each kind (writes, queries, "
                                     "lookups by id) in progress at once; beyond it 503 with Retry-After")
    broker_max_connections: int = Field(2048, ge=1, description="embedded broker: open connections (and requests) "
                                        "at once; beyond it the server answers 503")
    notify_timeout: float = Field(5.0, gt=0, description="timeout of one notification POST, seconds")

    # -- OCPI agent and simulators -----------------------------------------------------------
    ocpi_operators: Path | None = Field(None, description="operators file (default: the simulated town's)")
    ocpi_agent_port: int = Field(8091, description="OCPI agent status and metrics port (127.0.0.1)")
    ocpi_timeout: float = Field(10.0, gt=0, description="timeout of one OCPI request, seconds")
    ocpi_retries: int = Field(2, ge=0, description="retries of a failed OCPI GET (with backoff)")
    ocpi_receiver_url: str | None = Field(None, description="public base URL where CPOs reach the OCPI agent's "
                                          "Receiver (our versions URL is <it>/ocpi/versions; default "
                                          "http://127.0.0.1:<CIC_OCPI_AGENT_PORT>)")
    ocpi_party_id: str = Field("CIC", min_length=3, max_length=3, description="our OCPI party id (registration)")
    ocpi_country_code: str = Field("GB", min_length=2, max_length=2, description="our OCPI country code")
    ocpi_business_name: str = Field("CitiesInCharge", description="our business name in OCPI credentials")
    simulator_port: int = Field(8090, description="port of the simulated CPOs (cic simulate cpo)")
    simulator_url: str = Field("http://127.0.0.1:8090", description="where agents find the simulated CPOs "
                               "(used by the shipped operators file)")
    pseudonym_salt: SecretStr | None = Field(
        None, description="key for hashing session token ids (no salt: token ids are dropped entirely)")
    pseudonym_salt_file: Path | None = Field(None, description="file holding the pseudonymisation key")

    # -- MQTT and the parking agent ----------------------------------------------------------
    mqtt_url: str = Field("mqtt://127.0.0.1:1883", description="MQTT broker (mqtts:// for TLS)")
    mqtt_protocol: Literal["5", "3.1.1"] = Field("5", description="MQTT protocol version (3.1.1: no shared "
                                                   "subscriptions; the demo's Python broker speaks only 3.1.1)")
    mqtt_username: str | None = Field(None, description="MQTT user name")
    mqtt_password: SecretStr | None = Field(None, description="MQTT password")
    mqtt_password_file: Path | None = Field(None, description="file holding the MQTT password")
    mqtt_ca_file: Path | None = Field(None, description="CA bundle to verify an mqtts:// broker")
    mqtt_client_id: str | None = Field(
        None, description="stable MQTT client id of this agent replica (default: cic-parking-<host name>-<8 hex "
        "digits of the data dir>, unique per instance and stable across its restarts)")
    mqtt_share_group: str | None = Field(
        None, description="subscribe as $share/<group>/... so that replicas split the sensor traffic")
    mqtt_session_expiry: int = Field(7 * 24 * 3600, ge=0, description="seconds the MQTT broker keeps our session")
    parking_bays: Path | None = Field(None, description="bay registry file (default: the simulated town's)")
    parking_agent_port: int = Field(8092, description="parking agent status and metrics port (127.0.0.1)")
    parking_batch_ms: float = Field(50, gt=0, description="how long events are gathered into one write batch")
    parking_site_interval: float = Field(1.0, gt=0, description="seconds between site occupancy recounts")
    parking_max_clock_skew: float = Field(
        300, ge=0, description="seconds a sensor time may lie ahead of arrival (0: no check, for accelerated demos)")
    parking_max_attempts: int = Field(
        5, ge=1, description="times a message failing for an unforeseen reason is tried before it is quarantined")

    service_host: str = Field(
        "127.0.0.1", description="bind address of the agents' and workers' HTTP (status, notifications)")

    # -- analytics workers -------------------------------------------------------------------
    analytics_port: int = Field(8093, description="notification receiver and worker status port (127.0.0.1)")
    analytics_public_url: str | None = Field(
        None, description="URL the broker uses to reach the receiver (default http://127.0.0.1:<port>)")
    analytics_secret: SecretStr | None = Field(
        None, description="shared secret the broker sends with notifications (default: a new one per start)")
    analytics_secret_file: Path | None = Field(None, description="file holding that shared secret")
    analytics_time_scale: float = Field(
        1.0, gt=0, description="event-time seconds per wall second (the demo's simulators run at 60)")
    violations_grace_minutes: float = Field(10, gt=0, description="how long a bay may be occupied without charging")
    violations_debounce_seconds: float = Field(60, ge=0, description="a bay must stay free this long to count")
    violations_max_stay_minutes: float = Field(240, gt=0, description="longest stay in a charging bay (overstay)")
    violations_sites: Path | None = Field(
        None, description="YAML of per-site overrides: {site id: {grace_minutes, max_stay_minutes}}")
    demand_driver_file: Path | None = Field(
        None, description="CSV (date, value) of an extra demand driver, e.g. new EV registrations per month")
    demand_retrain_minutes: float = Field(
        360, gt=0, description="how often demand forecasts are retrained, in data-time minutes")
    kpi_provisional_minutes: float = Field(
        60, ge=0, description="data-time minutes between two provisional figures of a daily KPI's running "
                              "period (monthly: 6x, yearly: 24x that; first, final and corrected figures are "
                              "written at once)")
    records_retention_days: float = Field(
        400, ge=0, description="days ended charging sessions, CDRs and closed alerts are kept (13 months; 0: "
        "forever), in event time")
    records_prune_seconds: float = Field(3600, gt=0, description="how often records past that are deleted")
    sla_file: Path | None = Field(None, description="YAML of SLA thresholds (default and per operator)")

    # -- dashboard ---------------------------------------------------------------------------
    dashboard_host: str = Field("127.0.0.1", description="dashboard bind address")
    dashboard_port: int = Field(8080, description="dashboard port (cic dashboard)")
    dashboard_refresh_seconds: float = Field(
        15, gt=0, le=30, description="how often an open dashboard page refreshes its figures, seconds (at most 30)")
    map_tile_url: str | None = Field(
        None, description="map tile URL template for the dashboard, e.g. https://tiles.example/{z}/{x}/{y}.png "
        "(none: no basemap, the map works offline)")
    map_attribution: str | None = Field(None, description="attribution shown with those tiles")

    # -- open-data feed (cic opendata; docs/OPENDATA.md) ---------------------------------------
    opendata_host: str = Field("127.0.0.1", description="open-data feed bind address")
    opendata_port: int = Field(8094, description="open-data feed port (cic opendata)")
    opendata_public_url: str | None = Field(
        None, description="base URL the public reaches the feed at, for its next-page links (default: the URL "
        "each request came to)")
    opendata_cache_seconds: float = Field(
        5.0, ge=0, description="seconds one read of the broker serves every open-data request (0: read each time)")
    opendata_rate_per_second: float = Field(
        5.0, gt=0, description="requests per second each client address may make on average (token bucket)")
    opendata_rate_burst: int = Field(60, ge=1, description="requests a client address may make at once (bucket size)")
    opendata_max_limit: int = Field(1000, ge=1, le=10000, description="largest page (limit) of the open-data feed")

    demo_history_days: float = Field(
        91, ge=0, description="simulated days of history a new demo town starts with (13 weeks: enough for "
        "daily and hourly forecasts with back-tests, and the VAR across operators)")
    demo_speed: float = Field(60.0, gt=0, description="simulated seconds per wall second in the demo")

    clock_start: datetime | None = Field(
        None, description="simulated event time at wall epoch second CIC_CLOCK_WALL (set by the demo for every "
        "process; unset: real time)")
    clock_wall: float = Field(0.0, description="wall-clock epoch second at which the clock read CIC_CLOCK_START")
    clock_scale: float = Field(1.0, gt=0, description="simulated seconds per wall second")

    timezone: str = Field(
        "Europe/London", description="the council's time zone (IANA name): local times in alert descriptions, "
        "and where its days and months begin")

    holidays_country: str = Field(
        "GB", description="country whose public holidays drive demand forecasts (ISO 3166 code, e.g. GB, US)")
    holidays_subdivision: str | None = Field(
        "ENG", description="its subdivision where holidays differ within the country (GB: ENG, SCT, WLS, NIR; "
        "US: a state such as CO); empty: the country's national holidays only")

    council_id: str = Field(
        "council", pattern=r"^[A-Za-z0-9_-]{1,64}$", description="the council's Organization entity is "
        "urn:ngsi-ld:Organization:<this> (the subject of network-wide KPIs)")
    council_name: str = Field("Demo Council", description="the council's name on its Organization entity")
    council_country: str = Field(
        "GB", pattern=r"^[A-Za-z]{2}$", description="the council's country (ISO 3166 code): planning areas "
        "outside it, or with lon/lat swapped for it, are refused by cic areas import")

    # -- roll-out planning (cic plan; docs/PLANNING.md) -------------------------------------------
    plan_weight_saturation: float = Field(0.30, ge=0, description="plan score weight: share of hours every "
                                          "charger of the area was busy")
    plan_weight_demand: float = Field(0.25, ge=0, description="plan score weight: projected kWh per charger "
                                      "next year")
    plan_weight_coverage: float = Field(0.20, ge=0, description="plan score weight: share of the area farther "
                                        "than plan_gap_metres from a charger")
    plan_weight_households: float = Field(0.15, ge=0, description="plan score weight: households without "
                                          "off-street parking")
    plan_weight_reliability: float = Field(0.10, ge=0, description="plan score weight: share of time the "
                                           "area's chargers were down")
    plan_gap_metres: float = Field(500.0, gt=0, description="straight-line distance to a charger beyond which "
                                   "a part of an area counts as a coverage gap")
    plan_walk_metres: float = Field(250.0, ge=0, description="saturation counts a station's hour as turned-away "
                                    "demand only when every charger within this straight-line distance was busy")
    plan_every_hours: float = Field(24.0, gt=0, description="data-time hours between two plans computed by "
                                    "the analytics service (cic plan computes one at once)")

    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field("INFO", description="log level")

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, name: str) -> str:
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{name!r} is not an IANA time zone (e.g. Europe/London)") from None
        return name

    @field_validator("holidays_country")
    @classmethod
    def _known_country(cls, code: str) -> str:
        import holidays  # here, not at the top: only the forecasts need it, and it is slow to import

        if code not in holidays.list_supported_countries():
            raise ValueError(f"{code!r} is not a country the holidays library knows (e.g. GB, US)")
        return code

    @field_validator("holidays_subdivision")
    @classmethod
    def _known_subdivision(cls, code: str | None, info: ValidationInfo) -> str | None:
        import holidays

        country = info.data.get("holidays_country")
        if not code or country is None:
            return None
        known = holidays.list_supported_countries().get(country, [])
        if code not in known:
            raise ValueError(f"{country} has no subdivision {code!r} (known: {', '.join(known)})")
        return code

    def world_clock(self) -> WorldClock:
        """Event time as every process of this run reads it (the demo's simulated clock, else real time)."""
        if self.clock_start is None:
            return WorldClock()
        return WorldClock.anchored(self.clock_start, self.clock_scale, self.clock_wall)

    def zone(self) -> ZoneInfo:
        """The council's time zone, for local times people read and for its calendar."""
        return ZoneInfo(self.timezone)

    def effective_context_url(self) -> str:
        return self.context_url or ldcontext.project_context_url(self.broker_url)

    def bearer_token(self) -> SecretStr | None:
        return resolve_secret(self.token, self.token_file)

    def broker_required_token(self) -> SecretStr | None:
        return resolve_secret(self.broker_auth_token, self.broker_auth_token_file)

    def mqtt_secret(self) -> SecretStr | None:
        return resolve_secret(self.mqtt_password, self.mqtt_password_file)

    def mapping_secrets(self) -> dict[str, str]:
        """Secrets that mapping files may refer to as ``$name`` (e.g. the pseudonymisation key)."""
        salt = resolve_secret(self.pseudonym_salt, self.pseudonym_salt_file)
        return {"pseudonym_salt": salt.get_secret_value()} if salt else {}
