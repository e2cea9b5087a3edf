"""The one NGSI-LD client every component uses (agents, workers, dashboard, CLI).

A pooled ``requests.Session``; the project @context goes in a ``Link`` header on every call so
that short names mean the same everywhere; batch calls are chunked and their 207 answers are
turned into a :class:`BatchResult` listing each failed entity; queries follow pagination.
Works against the embedded broker and Orion-LD alike (only standard NGSI-LD is used).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from typing import Any, Literal
from urllib.parse import quote

import orjson
import requests
from pydantic import BaseModel, Field

from . import temporal_pages
from .errors import BrokerUnavailable, NotFound, ProblemDetails, error_from_response
from .settings import Settings

log = logging.getLogger(__name__)
LINK_REL = "http://www.w3.org/ns/json-ld#context"
_ID_CHUNK = 50  # entity ids per continuation request of a paged temporal query
_API = "/ngsi-ld/v1"


class BatchError(BaseModel):
    entity_id: str | None = Field(alias="entityId")
    error: ProblemDetails


class BatchResult(BaseModel):
    """Outcome of a (chunked) batch call: ids that succeeded and per-entity errors."""

    success: list[str] = Field(default_factory=list)
    errors: list[BatchError] = Field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def merge(self, other: BatchResult) -> None:
        self.success += other.success
        self.errors += other.errors


def _chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _why(error: requests.RequestException) -> str:
    """What went wrong reaching the broker, in a person's words (not an exception class name)."""
    if isinstance(error, requests.Timeout):
        return "no answer in time (timeout)"
    text = str(error)
    for needle, words in (("Connection refused", "connection refused (is it running? is the port right?)"),
                          ("Name or service not known", "unknown host name"),
                          ("nodename nor servname", "unknown host name"),
                          ("Temporary failure in name resolution", "host name not resolvable"),
                          ("No route to host", "no route to host"),
                          ("Connection reset", "connection reset"),
                          ("CERTIFICATE_VERIFY_FAILED", "TLS certificate not trusted")):
        if needle in text:
            return words
    return type(error).__name__


class NgsiLdClient:
    """NGSI-LD over HTTP for one broker, tenant and @context."""

    def __init__(self, settings: Settings | None = None, *, broker_url: str | None = None,
                 tenant: str | None = None, context_url: str | None = None) -> None:
        self.settings = settings or Settings()
        self.base = (broker_url or self.settings.broker_url).rstrip("/")
        # Orion-LD leaves the temporal API to Mintaka, elsewhere; the embedded broker serves both
        self.temporal_base = (self.settings.temporal_url or self.base).rstrip("/") if not broker_url else self.base
        self.tenant = tenant if tenant is not None else self.settings.tenant
        self.context_url = context_url or (
            self.settings.context_url or f"{self.base}/ngsi-ld/contexts/citiesincharge.jsonld")
        self.timeout = self.settings.http_timeout
        self.batch_size = self.settings.batch_size
        self.session = requests.Session()
        adapter = requests.adapters.HTTPAdapter(pool_connections=4, pool_maxsize=16)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> NgsiLdClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # -- plumbing ----------------------------------------------------------------------------
    def _headers(self, *, body: bool) -> dict[str, str]:
        headers = {"Accept": "application/json",
                   "Link": f'<{self.context_url}>; rel="{LINK_REL}"; type="application/ld+json"'}
        if body:
            headers["Content-Type"] = "application/json"
        if self.tenant:
            headers["NGSILD-Tenant"] = self.tenant
        token = self.settings.bearer_token()
        if token is not None:
            headers["Authorization"] = "Bearer " + token.get_secret_value()
        return headers

    def request(self, method: str, path: str, *, json: Any = None, params: dict[str, Any] | None = None,
                ok: Iterable[int] = (200, 201, 204, 207)) -> requests.Response:
        """One call; non-success statuses become typed errors, connection failures BrokerUnavailable."""
        url = (self.temporal_base if path.startswith(f"{_API}/temporal/") else self.base) + path
        clean = {k: v for k, v in (params or {}).items() if v is not None}
        payload = orjson.dumps(json) if json is not None else None  # orjson: ~10x faster on batch bodies
        try:
            response = self.session.request(method, url, data=payload, params=clean,
                                            headers=self._headers(body=json is not None), timeout=self.timeout)
        except requests.RequestException as error:
            raise BrokerUnavailable(ProblemDetails(title=f"broker {self.base} unreachable", detail=_why(error)),
                                    0) from None
        if response.status_code not in ok:
            try:
                body: Any = response.json()
            except ValueError:
                body = response.text
            raise error_from_response(response.status_code, body)
        return response

    # -- entities ----------------------------------------------------------------------------
    def create_entity(self, entity: dict[str, Any]) -> None:
        self.request("POST", f"{_API}/entities", json=entity, ok=(201,))

    def get_entity(self, entity_id: str, *, attrs: list[str] | None = None,
                   options: str | None = None) -> dict[str, Any]:
        params = {"attrs": ",".join(attrs) if attrs else None, "options": options}
        result: dict[str, Any] = self.request("GET", f"{_API}/entities/{quote(entity_id, safe=':')}",
                                              params=params, ok=(200,)).json()
        return result

    def find_entity(self, entity_id: str, **kwargs: Any) -> dict[str, Any] | None:
        try:
            return self.get_entity(entity_id, **kwargs)
        except NotFound:
            return None

    def query_entities(self, *, type: str | None = None, ids: list[str] | None = None,
                       id_pattern: str | None = None, q: str | None = None, attrs: list[str] | None = None,
                       georel: str | None = None, geometry: str | None = None, coordinates: str | None = None,
                       options: str | None = None, page_size: int = 1000) -> Iterator[dict[str, Any]]:
        """All matching entities, page by page (offset/limit) until a short page."""
        params: dict[str, Any] = {"type": type, "id": ",".join(ids) if ids else None, "idPattern": id_pattern,
                                  "q": q, "attrs": ",".join(attrs) if attrs else None, "georel": georel,
                                  "geometry": geometry, "coordinates": coordinates, "options": options,
                                  "limit": page_size}
        offset = 0
        while True:
            page = self.request("GET", f"{_API}/entities", params={**params, "offset": offset}, ok=(200,)).json()
            yield from page
            if len(page) < page_size:
                return
            offset += page_size

    def entities_by_ids(self, entity_ids: list[str], *, type: str | None = None,
                        attrs: list[str] | None = None) -> dict[str, dict[str, Any]]:
        """Many entities by id in few requests (POST /entityOperations/query), keyed by id."""
        found: dict[str, dict[str, Any]] = {}
        for chunk in _chunks(entity_ids, 500):
            query: dict[str, Any] = {"type": "Query",
                                     "entities": [{"id": i, **({"type": type} if type else {})} for i in chunk]}
            if attrs:
                query["attrs"] = attrs
            page = self.request("POST", f"{_API}/entityOperations/query", json=query,
                                params={"limit": len(chunk)}, ok=(200,)).json()
            found.update({e["id"]: e for e in page})
        return found

    def count_entities(self, *, type: str | None = None, q: str | None = None) -> int:
        response = self.request("GET", f"{_API}/entities",
                                params={"type": type, "q": q, "count": "true", "limit": 0}, ok=(200,))
        return int(response.headers["NGSILD-Results-Count"])

    def replace_entity(self, entity: dict[str, Any]) -> None:
        self.request("PUT", f"{_API}/entities/{quote(entity['id'], safe=':')}", json=entity, ok=(204,))

    def merge_entity(self, entity_id: str, fragment: dict[str, Any]) -> None:
        self.request("PATCH", f"{_API}/entities/{quote(entity_id, safe=':')}", json=fragment, ok=(204,))

    def append_attrs(self, entity_id: str, attrs: dict[str, Any], *, no_overwrite: bool = False) -> None:
        self.request("POST", f"{_API}/entities/{quote(entity_id, safe=':')}/attrs", json=attrs,
                     params={"options": "noOverwrite" if no_overwrite else None}, ok=(204, 207))

    def update_attrs(self, entity_id: str, attrs: dict[str, Any]) -> None:
        self.request("PATCH", f"{_API}/entities/{quote(entity_id, safe=':')}/attrs", json=attrs, ok=(204, 207))

    def delete_entity(self, entity_id: str) -> None:
        self.request("DELETE", f"{_API}/entities/{quote(entity_id, safe=':')}", ok=(204,))

    def delete_attr(self, entity_id: str, attr: str) -> None:
        self.request("DELETE", f"{_API}/entities/{quote(entity_id, safe=':')}/attrs/{attr}", ok=(204,))

    # -- batch -------------------------------------------------------------------------------
    def _batch(self, operation: str, items: list[Any], params: dict[str, Any] | None = None) -> BatchResult:
        total = BatchResult()
        for chunk in _chunks(items, self.batch_size):
            response = self.request("POST", f"{_API}/entityOperations/{operation}", json=chunk, params=params)
            if response.status_code == 207:
                total.merge(BatchResult.model_validate(response.json()))
            elif response.status_code == 201 and operation == "create":
                total.success += response.json()
            else:
                total.success += [i if isinstance(i, str) else i["id"] for i in chunk]
        if total.errors:
            log.warning("batch %s: %d of %d entities failed, first: %s", operation, len(total.errors),
                        len(items), total.errors[0].error.detail)
        return total

    def batch_create(self, entities: list[dict[str, Any]]) -> BatchResult:
        return self._batch("create", entities)

    def batch_upsert(self, entities: list[dict[str, Any]], *,
                     mode: Literal["replace", "update"] = "update") -> BatchResult:
        """Create or change many entities; ``update`` keeps attributes not in the payload."""
        return self._batch("upsert", entities, {"options": mode})

    def batch_update(self, entities: list[dict[str, Any]], *, no_overwrite: bool = False) -> BatchResult:
        return self._batch("update", entities, {"options": "noOverwrite" if no_overwrite else None})

    def batch_delete(self, entity_ids: list[str]) -> BatchResult:
        return self._batch("delete", entity_ids)

    # -- subscriptions -----------------------------------------------------------------------
    def create_subscription(self, subscription: dict[str, Any]) -> str:
        response = self.request("POST", f"{_API}/subscriptions", json=subscription, ok=(201,))
        return str(response.headers["Location"]).rsplit("/", 1)[-1]

    def get_subscription(self, sub_id: str) -> dict[str, Any]:
        result: dict[str, Any] = self.request("GET", f"{_API}/subscriptions/{sub_id}", ok=(200,)).json()
        return result

    def list_subscriptions(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        offset = 0
        while True:
            page = self.request("GET", f"{_API}/subscriptions", params={"limit": 1000, "offset": offset},
                                ok=(200,)).json()
            found += page
            if len(page) < 1000:
                return found
            offset += 1000

    def update_subscription(self, sub_id: str, fragment: dict[str, Any]) -> None:
        self.request("PATCH", f"{_API}/subscriptions/{sub_id}", json=fragment, ok=(204,))

    def delete_subscription(self, sub_id: str) -> None:
        self.request("DELETE", f"{_API}/subscriptions/{sub_id}", ok=(204,))

    # -- temporal ----------------------------------------------------------------------------
    def temporal_entity(self, entity_id: str, *, attrs: list[str] | None = None, timerel: str | None = None,
                        time_at: str | None = None, end_time_at: str | None = None, last_n: int | None = None,
                        options: str | None = None, aggr_methods: str | None = None,
                        aggr_period: str | None = None) -> dict[str, Any]:
        params = {"attrs": ",".join(attrs) if attrs else None, "timerel": timerel, "timeAt": time_at,
                  "endTimeAt": end_time_at, "lastN": last_n, "options": options, "aggrMethods": aggr_methods,
                  "aggrPeriodDuration": aggr_period}
        path = f"{_API}/temporal/entities/{quote(entity_id, safe=':')}"
        response = self.request("GET", path, params=params, ok=(200, 206))
        result: dict[str, Any] = response.json()
        while response.status_code == 206:  # the broker paged the instances: ask for the rest of the window
            params = temporal_pages.next_window(params, response.headers["Content-Range"])
            response = self.request("GET", path, params=params, ok=(200, 206))
            result = temporal_pages.merge(result, response.json(), older=last_n is not None, last_n=last_n)
        return result

    def temporal_query(self, *, type: str | None = None, q: str | None = None, attrs: list[str] | None = None,
                       timerel: str | None = None, time_at: str | None = None,
                       end_time_at: str | None = None, options: str | None = None, last_n: int | None = None,
                       page_size: int = 100) -> Iterator[dict[str, Any]]:
        params: dict[str, Any] = {"type": type, "q": q, "attrs": ",".join(attrs) if attrs else None,
                                  "timerel": timerel, "timeAt": time_at, "endTimeAt": end_time_at,
                                  "options": options, "lastN": last_n, "limit": page_size}
        offset = 0
        while True:
            response = self.request("GET", f"{_API}/temporal/entities", params={**params, "offset": offset},
                                    ok=(200, 206))
            page = response.json()
            if response.status_code == 206:
                page = self._rest_of_window(page, params, response.headers["Content-Range"])
            yield from page
            if len(page) < page_size:
                return
            offset += page_size

    def _rest_of_window(self, page: list[dict[str, Any]], params: dict[str, Any],
                        content_range: str) -> list[dict[str, Any]]:
        """The entities of a temporal query page with every instance of the window: the broker paged
        their instances (206), so the rest of the window is asked for these entities by id (in
        chunks of ids, so that a URL stays well under 8 kB)."""
        by_id = {entity["id"]: entity for entity in page}
        ids = list(by_id)
        for at in range(0, len(ids), _ID_CHUNK):
            rest, more = {**params, "q": None, "id": ",".join(ids[at:at + _ID_CHUNK]), "offset": 0}, content_range
            while more:
                rest = temporal_pages.next_window(rest, more)
                response = self.request("GET", f"{_API}/temporal/entities", params=rest, ok=(200, 206))
                for entity in response.json():
                    if entity["id"] in by_id:
                        by_id[entity["id"]] = temporal_pages.merge(by_id[entity["id"]], entity,
                                                                   older=params.get("lastN") is not None,
                                                                   last_n=params.get("lastN"))
                more = response.headers.get("Content-Range", "") if response.status_code == 206 else ""
        return [by_id[entity["id"]] for entity in page]

    def version(self) -> dict[str, Any]:
        result: dict[str, Any] = self.request("GET", "/version", ok=(200,)).json()
        return result
