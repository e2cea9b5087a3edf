"""The dashboard's web app: one route per page, each also answering a table as CSV (``?csv=<table>``)
and its live part alone (``?fragment=1``, what an open page fetches every few seconds).

Server-rendered (FastAPI + Jinja2) with one small script; read-only (GET only); behind the
broker's bearer token when one is set (CIC_BROKER_AUTH_TOKEN). A mistake in the address gives a
4xx page saying what to change; a broker that cannot be reached gives a 503 page naming it.
"""

from __future__ import annotations

import hmac
import json
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlparse

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from citiesincharge.client import NgsiLdClient
from citiesincharge.errors import NgsiLdClientError
from citiesincharge.settings import Settings

from . import filters as filter_params
from .directory import DirectoryCache
from .filters import FilterError
from .page import AreaMap, MapView, Page, PageSpec
from .pages import Ctx, bays, demand, energy, overview, reliability, where_next
from .periods import KEYS_HELP
from .reader import Reader

log = logging.getLogger(__name__)
HERE = Path(__file__).parent
PAGES: list[tuple[PageSpec, Callable[[Ctx], Page]]] = [
    (overview.SPEC, overview.build), (reliability.SPEC, reliability.build), (bays.SPEC, bays.build),
    (demand.SPEC, demand.build), (energy.SPEC, energy.build), (where_next.SPEC, where_next.build)]
PIN_LETTERS = {"available": "A", "charging": "C", "down": "D", "unknown": "?"}
PERIOD_CHOICES = {"days": ["today", "7d", "30d"], "month": ["month", "last-month"], "year": ["year", "last-year"]}
COOKIE = "cic_dashboard_token"


def _markers_json(section: MapView) -> str:
    return json.dumps([{"id": m.id, "name": m.name, "lat": m.lat, "lon": m.lon, "status": m.status,
                        "popup": m.popup} for m in section.markers]).replace("</", "<\\/")


def _areas_json(section: AreaMap) -> str:
    """The areas and stations an area map draws; coordinates to 5 decimals (about 1 m), which keeps a
    thousand detailed wards a light page to refresh."""
    return json.dumps({"areas": [{"id": s.id, "name": s.name, "fill": s.fill, "label": s.label, "at": s.at,
                                  "geometry": {"type": s.geometry["type"],
                                               "coordinates": _rounded(s.geometry["coordinates"])}}
                                 for s in section.shapes],
                       "stations": [{"name": n, "lat": lat, "lon": lon} for n, lat, lon in section.points]},
                      separators=(",", ":")).replace("</", "<\\/")


def _rounded(coordinates: Any) -> Any:
    if isinstance(coordinates, list):
        return [_rounded(c) for c in coordinates]
    return round(coordinates, 5) if isinstance(coordinates, float) else coordinates


def _origin(url: str | None) -> str:
    if not url:
        return ""
    parts = urlparse(url.replace("{s}", "a"))
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


def create_app(settings: Settings, *, now: Callable[[], datetime] | None = None,
               client: NgsiLdClient | None = None) -> FastAPI:
    """The app reading ``settings.broker_url``; ``now`` is the run's clock (Settings.world_clock())."""
    clock = now or settings.world_clock().now
    client = client or NgsiLdClient(settings)
    reader = Reader(client)
    directory = DirectoryCache(reader, settings.council_id)
    directory.warm()  # the first visitor should not wait for it
    zone = settings.zone()
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    templates.env.globals.update(zip=zip, pin_letters=PIN_LETTERS, markers_json=_markers_json, areas_json=_areas_json)
    app = FastAPI(title="CitiesInCharge dashboard", docs_url=None, redoc_url=None, openapi_url=None)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    tiles = settings.map_tile_url or ""
    policy = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
              f"img-src 'self' data: {_origin(tiles)}; connect-src 'self'; frame-ancestors 'none'").replace("  ", " ")

    @app.middleware("http")
    async def _guard(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        if request.method not in ("GET", "HEAD") and request.url.path != "/login":
            return PlainTextResponse("the dashboard is read-only", status_code=405)
        token = settings.broker_required_token()
        public = request.url.path in ("/health", "/login") or request.url.path.startswith("/static/")
        if token is not None and not public and not _authorised(request, token.get_secret_value()):
            return HTMLResponse(_login_page(request.url.path), status_code=401,
                                headers={"WWW-Authenticate": 'Bearer realm="cic-dashboard"'})
        response = await call_next(request)
        response.headers.setdefault("Content-Security-Policy", policy)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        return response

    @app.post("/login", include_in_schema=False)
    async def _login(request: Request) -> Response:
        token = settings.broker_required_token()
        form = (await request.body()).decode("utf-8", "replace")
        given = dict(p.split("=", 1) for p in form.split("&") if "=" in p).get("token", "")
        from urllib.parse import unquote_plus

        if token is None or not hmac.compare_digest(unquote_plus(given), token.get_secret_value()):
            return HTMLResponse(_login_page("/", failed=True), status_code=401)
        response = RedirectResponse("/", status_code=303)
        response.set_cookie(COOKIE, unquote_plus(given), httponly=True, samesite="strict")
        return response

    @app.get("/health", include_in_schema=False)
    def _health() -> JSONResponse:
        return JSONResponse({"status": "ok"})

    def common(request: Request, slug: str, title: str) -> dict[str, Any]:
        return {"request": request, "root": "", "nav": [{"slug": s.slug, "path": s.path, "title": s.title}
                                                          for s, _ in PAGES],
                "slug": slug, "title": title, "council": settings.council_name, "broker": client.base,
                "zone": settings.timezone, "refresh_ms": int(settings.dashboard_refresh_seconds * 1000),
                "updated": clock().astimezone(zone).strftime("%Y-%m-%d %H:%M:%S"), "query": ""}

    def render(request: Request, spec: PageSpec, build: Callable[[Ctx], Page]) -> Response:
        params = dict(request.query_params)
        started = time.perf_counter()
        try:
            known = directory.get()
            selection = filter_params.parse(params, known, clock(), zone, default_period=spec.default_period,
                                            kinds=spec.kinds, station_filter=spec.station_filter)
            page = build(Ctx(reader, known, selection, clock(), zone, settings.council_id))
        except FilterError as error:
            return templates.TemplateResponse(request, "error.html", {
                **common(request, spec.slug, error.title), "detail": error.detail, "back": spec.path,
                "hint": f"Periods: {KEYS_HELP}."}, status_code=error.status)
        except NgsiLdClientError as error:
            log.warning("dashboard page %s: %s", spec.path, error)
            return templates.TemplateResponse(request, "error.html", {
                **common(request, spec.slug, "The context broker cannot be read"), "back": spec.path,
                "detail": f"{client.base}: {error}",
                "hint": "The page will work again once the broker answers; reload it then."}, status_code=503)
        log.debug("page %s built in %.0f ms", spec.path, (time.perf_counter() - started) * 1000)
        if "csv" in params:
            table = page.table(params["csv"])
            if table is None:
                return PlainTextResponse(f"no table {params['csv'][:60]!r} on this page", status_code=404)
            name = f"{spec.slug}-{table.id}" + (f"-{selection.window.key}" if spec.filtered else "") + ".csv"
            return Response(table.csv(), media_type="text/csv; charset=utf-8",
                            headers={"Content-Disposition": f'attachment; filename="{name}"'})
        query = selection.query()

        def csv_query(table_id: str) -> str:
            return query + ("&" if query else "") + urlencode({"csv": table_id})

        kinds = [k for k in spec.kinds]
        # the other pages keep the operator and area; periods differ between pages
        keep = selection.query(period=None, station=None)
        context = {**common(request, spec.slug, spec.title), "page": page, "path": spec.path, "query": keep,
                   "operators": sorted(known.operators.values(), key=lambda o: o.name), "areas": known.areas,
                   "station_filter": spec.station_filter, "csv_query": csv_query, "filtered": spec.filtered,
                   "period_choices": [key for kind in kinds for key in PERIOD_CHOICES[kind]],
                   "period_help": "e.g. " + ", ".join(key for kind in kinds for key in PERIOD_CHOICES[kind][:2])
                                  + (", YYYY-MM" if "month" in kinds else ""),
                   "map_tiles": tiles, "map_attribution": settings.map_attribution or "",
                   "has_map": any(isinstance(s, MapView | AreaMap) for s in page.sections),
                   "has_area_map": any(isinstance(s, AreaMap) for s in page.sections),
                   "has_chart": any(type(s).__name__ == "Chart" for s in page.sections)}
        template = "_sections.html" if params.get("fragment") else "page.html"
        return templates.TemplateResponse(request, template, context, headers={"Cache-Control": "no-store"})

    for spec, build in PAGES:
        def route(request: Request, spec: PageSpec = spec, build: Callable[[Ctx], Page] = build) -> Response:
            return render(request, spec, build)
        app.add_api_route(spec.path, route, methods=["GET"], include_in_schema=False, name=spec.slug)

    @app.on_event("shutdown")
    def _close() -> None:
        reader.close()
        client.close()

    return app


def _authorised(request: Request, token: str) -> bool:
    header = request.headers.get("authorization", "")
    given = header[7:] if header.lower().startswith("bearer ") else request.cookies.get(COOKIE, "")
    return bool(given) and hmac.compare_digest(given.encode(), token.encode())


def _login_page(path: str, *, failed: bool = False) -> str:
    """The one page shown without the token: a form that sets it as a cookie (browsers cannot send a
    bearer header by themselves)."""
    problem = '<p class="problem">That token is not the right one.</p>' if failed else ""
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Sign in · CitiesInCharge</title>
<link rel="stylesheet" href="/static/dashboard.css"></head><body><main id="content" class="error">
<h1>This dashboard needs the broker's token</h1>{problem}
<form method="post" action="/login"><label>Bearer token <input type="password" name="token" autocomplete="off"
required></label> <button type="submit">Sign in</button></form>
<p>Scripts may send <code>Authorization: Bearer …</code> instead.</p></main></body></html>"""
