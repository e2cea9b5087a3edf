"""The ``cic`` command line: one entry point for every component (see docs/ARCHITECTURE.md).

Options override ``CIC_*`` environment variables, which override defaults. Components are
imported when their command runs, so ``cic --help`` stays fast and ``citiesincharge`` does not
import the layers above it at module level. Mistakes get one line and exit code 2 (a bad
``CIC_`` setting names the setting), an unreachable broker one line naming its URL: no tracebacks
for what a person can fix.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from pydantic_settings import SettingsError

from . import __version__, ldcontext, logs
from .errors import BrokerUnavailable
from .settings import Settings


def _settings(args: argparse.Namespace, **overrides: Any) -> Settings:
    values = {k: v for k, v in overrides.items() if v is not None}
    if args.broker:
        values["broker_url"] = args.broker
    if args.tenant:
        values["tenant"] = args.tenant
    return Settings(**values)


def _cmd_broker(args: argparse.Namespace) -> int:
    settings = _settings(args, broker_host=args.host, broker_port=args.port, data_dir=args.data_dir,
                         broker_memory=True if args.memory else None)
    logs.configure(settings.log_level)
    importlib.import_module("broker.server").serve(settings)
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    settings = _settings(args, broker_port=args.port, data_dir=args.data_dir, simulator_port=args.simulator_port,
                         ocpi_agent_port=args.ocpi_agent_port, parking_agent_port=args.parking_agent_port,
                         analytics_port=args.analytics_port, dashboard_port=args.dashboard_port,
                         opendata_port=args.opendata_port, mqtt_url=args.mqtt_url)
    logs.configure(settings.log_level)
    from . import demo

    return demo.run(settings, fresh=args.fresh)


def _instant(text: str) -> datetime:
    """An ISO 8601 instant (``2026-03-02T03:00:00Z``); a time without an offset is refused, as it
    would mean a different instant on every machine."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an ISO 8601 date-time") from None
    if moment.tzinfo is None:
        raise argparse.ArgumentTypeError(f"{text!r} has no UTC offset (add Z or +01:00)")
    return moment


def _cmd_simulate_cpo(args: argparse.Namespace) -> int:
    settings = _settings(args, simulator_port=args.port)
    logs.configure(settings.log_level)
    importlib.import_module("agents.ocpi.simulator.server").serve(settings, seed=args.seed, speed=args.speed,
                                                                  town=args.town, history_days=args.history_days,
                                                                  start=args.start, push=args.push,
                                                                  push_every=args.push_every)
    return 0


def _cmd_agent_ocpi(args: argparse.Namespace) -> int:
    settings = _settings(args, ocpi_operators=args.operators)
    logs.configure(settings.log_level)
    return int(importlib.import_module("agents.ocpi.run").main(settings, once=args.once))


def _cmd_ocpi_register(args: argparse.Namespace) -> int:
    settings = _settings(args, ocpi_operators=args.operators, data_dir=args.data_dir)
    logs.configure(settings.log_level)
    action = "rotate" if args.rotate else "unregister" if args.unregister else "register"
    return int(importlib.import_module("agents.ocpi.register").main(
        settings, operator=args.operator, token_a_file=args.token_a, token_a_env=args.token_a_env, action=action))


def _cmd_agent_parking(args: argparse.Namespace) -> int:
    settings = _settings(args, mqtt_url=args.mqtt, parking_bays=args.bays)
    logs.configure(settings.log_level)
    return int(importlib.import_module("agents.parking.run").main(settings))


def _cmd_simulate_parking(args: argparse.Namespace) -> int:
    settings = _settings(args, mqtt_url=args.mqtt, parking_bays=args.bays)
    logs.configure(settings.log_level)
    return int(importlib.import_module("agents.parking.simulator").main(settings, seed=args.seed, speed=args.speed))


def _one_blas_thread() -> None:
    """Before numpy is imported: the models are small, and BLAS threads only fight over the cores
    (forecasting ran 3x slower on a busy 2-core machine). An explicit setting is kept."""
    for variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS"):
        os.environ.setdefault(variable, "1")


def _cmd_analytics(args: argparse.Namespace) -> int:
    settings = _settings(args)
    logs.configure(settings.log_level)
    _one_blas_thread()
    return int(importlib.import_module("analytics.run").main(settings, args.worker))


def _cmd_dashboard(args: argparse.Namespace) -> int:
    settings = _settings(args, dashboard_port=args.port, dashboard_host=args.host)
    logs.configure(settings.log_level)
    importlib.import_module("dashboard.server").serve(settings)
    return 0


def _cmd_opendata(args: argparse.Namespace) -> int:
    settings = _settings(args, opendata_port=args.port, opendata_host=args.host)
    logs.configure(settings.log_level)
    importlib.import_module("dashboard.opendata.server").serve(settings)
    return 0


def _cmd_forecast(args: argparse.Namespace) -> int:
    settings = _settings(args, timezone=args.timezone, holidays_country=args.holidays_country,
                         holidays_subdivision=args.holidays_subdivision)
    logs.configure("WARNING")
    _one_blas_thread()
    module = importlib.import_module("analytics.forecast_cli")
    forecasting = importlib.import_module("analytics.forecasting")
    resolutions = ["hourly", "daily"] if args.horizon == "both" else [args.horizon]
    steps = {"hourly": args.hours, "daily": args.days}
    options = module.Options(args.sessions, resolutions, args.measure, args.by, steps, args.dayfirst,
                             settings.timezone,
                             forecasting.Calendar(settings.holidays_country, settings.holidays_subdivision),
                             args.driver, args.out)
    return int(module.run(options))


def _cmd_areas_import(args: argparse.Namespace) -> int:
    settings = _settings(args, council_id=args.council, council_country=args.country)
    logs.configure("WARNING")
    module = importlib.import_module("analytics.planning.cli")
    options = module.ImportOptions(args.file, args.registrations, args.population_csv, dry_run=args.dry_run)
    return int(module.import_main(settings, options))


def _cmd_areas_stations(args: argparse.Namespace) -> int:
    settings = _settings(args, council_id=args.council)
    logs.configure("WARNING")
    return int(importlib.import_module("analytics.planning.cli").stations_main(settings, write=not args.no_write))


def _cmd_plan(args: argparse.Namespace) -> int:
    settings = _settings(args, council_id=args.council)
    logs.configure("WARNING")
    _one_blas_thread()
    return int(importlib.import_module("analytics.planning.cli").plan_main(settings, at=args.at,
                                                                             write=not args.no_write))


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} must be at least 1")
    return value


def _cmd_mqtt(args: argparse.Namespace) -> int:
    settings = _settings(args, data_dir=args.data_dir)
    importlib.import_module("agents.mqtt_broker").serve(args.port, Path(settings.data_dir))
    return 0


def _cmd_context(args: argparse.Namespace) -> int:
    if args.clashes:
        print(json.dumps(ldcontext.term_clashes(), indent=2, sort_keys=True))
    else:
        print(json.dumps(ldcontext.project_context_document(), indent=2))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cic", description="CitiesInCharge: EV charging in NGSI-LD.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--broker", help="NGSI-LD broker URL (CIC_BROKER_URL)")
    parser.add_argument("--tenant", help="NGSILD-Tenant (CIC_TENANT)")
    commands = parser.add_subparsers(dest="command", required=True)

    broker = commands.add_parser("broker", help="run the embedded NGSI-LD context broker")
    broker.add_argument("--host", help="bind address (CIC_BROKER_HOST, default 127.0.0.1)")
    broker.add_argument("--port", type=int, help="port (CIC_BROKER_PORT, default 1026)")
    storage = broker.add_mutually_exclusive_group()
    storage.add_argument("--data-dir", type=Path, help="directory of broker.sqlite (CIC_DATA_DIR)")
    storage.add_argument("--memory", action="store_true", help="keep everything in memory")
    broker.set_defaults(run=_cmd_broker)

    demo = commands.add_parser("demo", help="run the system on embedded defaults with sample data")
    demo.add_argument("--port", type=int, help="NGSI-LD broker port (CIC_BROKER_PORT, default 1026)")
    demo.add_argument("--simulator-port", type=int, help="simulated CPOs' port (CIC_SIMULATOR_PORT, default 8090)")
    demo.add_argument("--ocpi-agent-port", type=int, help="OCPI agent status port (CIC_OCPI_AGENT_PORT, default 8091)")
    demo.add_argument("--parking-agent-port", type=int,
                      help="parking agent status port (CIC_PARKING_AGENT_PORT, default 8092)")
    demo.add_argument("--analytics-port", type=int, help="analytics workers' port (CIC_ANALYTICS_PORT, default 8093)")
    demo.add_argument("--dashboard-port", type=int, help="dashboard port (CIC_DASHBOARD_PORT, default 8080)")
    demo.add_argument("--opendata-port", type=int, help="open-data feed port (CIC_OPENDATA_PORT, default 8094)")
    demo.add_argument("--mqtt-url", help="MQTT broker, used if one answers there, else started on its port "
                                         "(CIC_MQTT_URL, default mqtt://127.0.0.1:1883)")
    demo.add_argument("--data-dir", type=Path, help="where the demo keeps its data (CIC_DATA_DIR, default data)")
    demo.add_argument("--fresh", action="store_true",
                      help="start a new simulated town: remove the previous run's data from the data dir")
    demo.set_defaults(run=_cmd_demo)

    simulate = commands.add_parser("simulate", help="run simulated data sources").add_subparsers(
        dest="source", required=True)
    cpo = simulate.add_parser("cpo", help="three simulated charge point operators speaking OCPI")
    cpo.add_argument("--port", type=int, help="port (CIC_SIMULATOR_PORT, default 8090)")
    cpo.add_argument("--seed", type=int, default=42, help="random seed: same seed, same history")
    cpo.add_argument("--speed", type=float, default=60.0, help="simulated seconds per real second (0: frozen)")
    cpo.add_argument("--town", choices=("default", "bench"), default="default", help="network to simulate")
    cpo.add_argument("--history-days", type=float, default=0, help="days of simulated past already played at start")
    cpo.add_argument("--start", type=_instant, help="simulated instant to start at, ISO 8601 with offset, "
                                                    "e.g. 2026-03-02T03:00:00Z (default: now)")
    cpo.add_argument("--push", metavar="URL", help="push mode: send every operator's changes to this OCPI Receiver "
                                                   "(its versions URL), each with its own token, as real CPOs do")
    cpo.add_argument("--push-every", type=float, default=5.0, help="seconds between two push rounds (default 5)")
    cpo.set_defaults(run=_cmd_simulate_cpo)

    parking_sim = simulate.add_parser("parking", help="simulated bay sensors publishing over MQTT")
    parking_sim.add_argument("--mqtt", help="MQTT broker URL (CIC_MQTT_URL)")
    parking_sim.add_argument("--bays", type=Path, help="bay registry (CIC_PARKING_BAYS)")
    parking_sim.add_argument("--seed", type=int, default=42, help="random seed: same seed, same history")
    parking_sim.add_argument("--speed", type=float, default=60.0, help="simulated seconds per real second")
    parking_sim.set_defaults(run=_cmd_simulate_parking)

    agent = commands.add_parser("agent", help="run a southbound agent").add_subparsers(dest="agent", required=True)
    parking = agent.add_parser("parking", help="bay sensor events from MQTT into the broker")
    parking.add_argument("--mqtt", help="MQTT broker URL (CIC_MQTT_URL)")
    parking.add_argument("--bays", type=Path, help="bay registry (CIC_PARKING_BAYS)")
    parking.set_defaults(run=_cmd_agent_parking)
    ocpi = agent.add_parser("ocpi", help="poll the operators' OCPI endpoints into the broker")
    ocpi.add_argument("--operators", type=Path, help="operators file (CIC_OCPI_OPERATORS)")
    ocpi.add_argument("--once", action="store_true", help="one full sync of every operator, then exit")
    ocpi.set_defaults(run=_cmd_agent_ocpi)

    ocpi_commands = commands.add_parser("ocpi", help="OCPI credentials with an operator").add_subparsers(
        dest="ocpi", required=True)
    register = ocpi_commands.add_parser("register", help="register with an operator (token A -> B -> C), rotate "
                                        "our tokens or unregister")
    register.add_argument("--operator", required=True, help="the operator's name in the operators file")
    register.add_argument("--operators", type=Path, help="operators file (CIC_OCPI_OPERATORS)")
    register.add_argument("--data-dir", type=Path, help="where the tokens are kept (CIC_DATA_DIR)")
    register.add_argument("--token-a", type=Path, help="file holding the token A the operator gave you")
    register.add_argument("--token-a-env", help="variable holding the token A (instead of --token-a)")
    change = register.add_mutually_exclusive_group()
    change.add_argument("--rotate", action="store_true", help="send a new token B, receive a new token C")
    change.add_argument("--unregister", action="store_true", help="end the registration (DELETE)")
    register.set_defaults(run=_cmd_ocpi_register)

    analytics = commands.add_parser("analytics", help="run the analytics workers (default: all)")
    analytics.add_argument("--worker", action="append",
                           choices=("health", "violations", "energy", "demand", "planning"),
                           help="run only this worker (repeatable)")
    analytics.set_defaults(run=_cmd_analytics)

    dashboard = commands.add_parser("dashboard", help="serve the council's web dashboard (reads NGSI-LD only)")
    dashboard.add_argument("--port", type=int, help="port (CIC_DASHBOARD_PORT, default 8080)")
    dashboard.add_argument("--host", help="bind address (CIC_DASHBOARD_HOST, default 127.0.0.1)")
    dashboard.set_defaults(run=_cmd_dashboard)

    opendata = commands.add_parser("opendata", help="serve the open-data feed: GeoJSON, NGSI-LD keyValues and "
                                   "OCPI Locations of what operators share publicly (docs/OPENDATA.md)")
    opendata.add_argument("--port", type=int, help="port (CIC_OPENDATA_PORT, default 8094)")
    opendata.add_argument("--host", help="bind address (CIC_OPENDATA_HOST, default 127.0.0.1)")
    opendata.set_defaults(run=_cmd_opendata)

    forecast = commands.add_parser("forecast", help="back-test and forecast demand from a sessions CSV")
    forecast.add_argument("--sessions", type=Path, required=True,
                          help="CSV export of sessions (start, or start date and time; end; kWh; station; site)")
    forecast.add_argument("--measure", choices=("sessions", "kwh"), default="sessions",
                          help="what to forecast: sessions started or their kWh (default sessions)")
    forecast.add_argument("--by", choices=("network", "site", "station"), default="station",
                          help="one series for the whole network, per site, or per station (default station)")
    forecast.add_argument("--horizon", choices=("hourly", "daily", "both"), default="both",
                          help="hourly periods, daily periods, or both")
    forecast.add_argument("--days", type=_positive, default=56, help="days ahead of a daily forecast (default 56)")
    forecast.add_argument("--hours", type=_positive, default=48, help="hours ahead of an hourly forecast (default 48)")
    order = forecast.add_mutually_exclusive_group()
    order.add_argument("--dayfirst", dest="dayfirst", action="store_true", default=None,
                       help="dates are dd/mm/yyyy (default: decided from the file, refused when it cannot be)")
    order.add_argument("--monthfirst", dest="dayfirst", action="store_false", help="dates are mm/dd/yyyy")
    forecast.add_argument("--timezone", help="time zone of times without an offset (CIC_TIMEZONE, default "
                                             "Europe/London)")
    forecast.add_argument("--holidays-country", help="public holidays of this country (CIC_HOLIDAYS_COUNTRY, "
                                                     "default GB)")
    forecast.add_argument("--holidays-subdivision", help="and of this subdivision, e.g. SCT "
                                                         "(CIC_HOLIDAYS_SUBDIVISION, default ENG)")
    forecast.add_argument("--driver", type=Path, help="CSV of an extra driver series (date, value), e.g. EV "
                                                      "registrations per month")
    forecast.add_argument("--out", type=Path, help="write the load report, back-test and forecasts as JSON here")
    forecast.set_defaults(run=_cmd_forecast)

    areas = commands.add_parser("areas", help="the council's planning areas (docs/PLANNING.md)").add_subparsers(
        dest="areas", required=True)
    area_import = areas.add_parser("import", help="import planning areas from GeoJSON (+ CSV figures per area)")
    area_import.add_argument("file", type=Path, help="GeoJSON FeatureCollection of Polygon/MultiPolygon areas")
    area_import.add_argument("--registrations", type=Path,
                             help="CSV of plug-in vehicles per area over time (area, date, count)")
    area_import.add_argument("--population-csv", type=Path, help="CSV of population and households without "
                                                                 "off-street parking per area")
    area_import.add_argument("--council", help="council whose areas these are (CIC_COUNCIL_ID)")
    area_import.add_argument("--country", help="the council's country, ISO code (CIC_COUNCIL_COUNTRY, default GB)")
    area_import.add_argument("--dry-run", action="store_true", help="check the files, write nothing")
    area_import.set_defaults(run=_cmd_areas_import)
    area_stations = areas.add_parser("stations", help="count stations and chargers per area by geo-query")
    area_stations.add_argument("--council", help="council whose areas to count (CIC_COUNCIL_ID)")
    area_stations.add_argument("--no-write", action="store_true", help="print only; do not write the counts back")
    area_stations.set_defaults(run=_cmd_areas_stations)

    plan = commands.add_parser("plan", help="rank the planning areas for new chargers and say why "
                                            "(docs/PLANNING.md)")
    plan.add_argument("--council", help="council whose areas to rank (CIC_COUNCIL_ID)")
    plan.add_argument("--at", type=_instant, help="data time to plan at, ISO 8601 with offset (default: now)")
    plan.add_argument("--no-write", action="store_true", help="print only; do not write the plan to the context")
    plan.set_defaults(run=_cmd_plan)

    mqtt = commands.add_parser("mqtt", help="an MQTT broker for the demo (Mosquitto if installed, else amqtt)")
    mqtt.add_argument("--port", type=int, default=1883, help="port on 127.0.0.1 (default 1883)")
    mqtt.add_argument("--data-dir", type=Path, help="where it keeps its persistence (CIC_DATA_DIR)")
    mqtt.set_defaults(run=_cmd_mqtt)

    context = commands.add_parser("context", help="print the compound project @context")
    context.add_argument("--clashes", action="store_true", help="list SDM terms that clash between subjects")
    context.set_defaults(run=_cmd_context)
    return parser


def _setting_errors(error: ValidationError) -> list[str]:
    """One line per bad setting, named as it is set (``CIC_BROKER_PORT='abc': ...``)."""
    lines = []
    for item in error.errors():
        field = str(item["loc"][0]) if item["loc"] else "?"
        name = f"CIC_{field.upper()}" if field in Settings.model_fields else field
        lines.append(f"cic: {name}={item.get('input')!r}: {item['msg']}")
    return lines


def _quiet_stdout() -> None:
    """The reader went away (``cic context | head``): drop what is still buffered, silently."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        code = int(args.run(args))
        sys.stdout.flush()
        return code
    except KeyboardInterrupt:
        return 130
    except ValidationError as error:
        print("\n".join(_setting_errors(error)), file=sys.stderr)
        return 2
    except SettingsError as error:
        print(f"cic: {error}", file=sys.stderr)
        return 2
    except BrokerUnavailable as error:
        print(f"cic: {error}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        _quiet_stdout()
        return 0


if __name__ == "__main__":
    sys.exit(main())
