"""``/docs`` (Swagger UI) and ``/redoc`` that work offline, for every ``cic`` HTTP service.

FastAPI's own pages load their JavaScript and CSS from a CDN: on a council's closed network, or
a laptop on a train, they are a blank page. Here the assets come from the ``fastapi-offline``
package (Swagger UI 5 and ReDoc 2, served from ``/docs/assets/``), so a page and everything it loads
come from the service itself (see docs/ARCHITECTURE.md).
"""

from __future__ import annotations

from pathlib import Path

import fastapi_offline
from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from starlette.routing import BaseRoute

ASSETS = "/docs/assets"  # under /docs, so that whatever leaves /docs public leaves its assets public too
_FILES = Path(fastapi_offline.__file__).parent / "static"


def serve_offline(app: FastAPI) -> FastAPI:
    """Replace ``app``'s /docs and /redoc (if any) by pages whose assets it serves itself."""
    docs, redoc = app.docs_url or "/docs", app.redoc_url or "/redoc"
    redirect = app.swagger_ui_oauth2_redirect_url or "/docs/oauth2-redirect"
    app.router.routes[:] = [r for r in app.router.routes if _path(r) not in (docs, redoc, redirect)]
    app.docs_url, app.redoc_url, app.swagger_ui_oauth2_redirect_url = docs, redoc, redirect
    app.mount(ASSETS, StaticFiles(directory=_FILES), name="docs-assets")
    openapi = app.openapi_url or "/openapi.json"

    @app.get(docs, include_in_schema=False)
    async def _swagger(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_swagger_ui_html(openapi_url=root + openapi, title=f"{app.title} - Swagger UI",
                                   oauth2_redirect_url=root + redirect,
                                   swagger_js_url=f"{root}{ASSETS}/swagger-ui-bundle.js",
                                   swagger_css_url=f"{root}{ASSETS}/swagger-ui.css",
                                   swagger_favicon_url=f"{root}{ASSETS}/favicon.png",
                                   # no badge fetched from validator.swagger.io
                                   swagger_ui_parameters={**(app.swagger_ui_parameters or {}), "validatorUrl": None})

    @app.get(redirect, include_in_schema=False)
    async def _oauth2_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    @app.get(redoc, include_in_schema=False)
    async def _redoc(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_redoc_html(openapi_url=root + openapi, title=f"{app.title} - ReDoc",
                              redoc_js_url=f"{root}{ASSETS}/redoc.standalone.js",
                              redoc_favicon_url=f"{root}{ASSETS}/favicon.png", with_google_fonts=False)

    return app


def _path(route: BaseRoute) -> str | None:
    return getattr(route, "path", None)
