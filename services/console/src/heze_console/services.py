"""The four services, reached only through their public HTTP APIs with the signed-in person's
token (the console is a backend-for-frontend: it holds no authority of its own)."""

from __future__ import annotations

from collections.abc import Mapping
import dataclasses
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx

from heze_console.settings import SERVICES, ConsoleSettings

PAGE_SIZE = 500
"""The largest page every list endpoint accepts."""


@dataclass
class ServiceError(Exception):
    """A service refused the request: its status and its `{"error": {...}}` body."""

    service: str
    status: int
    code: str
    message: str = ""
    field: str | None = None
    details: dict[str, Any] = dataclasses.field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.service} {self.status} {self.code}: {self.message}"


class ServiceUnavailable(Exception):
    """A service did not answer, or answered 503 (restarting, its database away)."""

    def __init__(self, service: str):
        super().__init__(f"{service} is unavailable")
        self.service = service


class Services:
    """One HTTP client per service, shared by every request of the console process."""

    def __init__(
        self, settings: ConsoleSettings, transport: httpx.AsyncBaseTransport | None = None
    ):
        self.clients = {
            name: httpx.AsyncClient(
                base_url=settings.service_url(name),
                timeout=settings.service_timeout_seconds,
                transport=transport,
            )
            for name in SERVICES
        }

    async def close(self) -> None:
        for client in self.clients.values():
            await client.aclose()

    async def request(
        self,
        service: str,
        method: str,
        path: str,
        token: str | None,
        *,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
        idempotency_key: str | None = None,
    ) -> httpx.Response:
        headers = {"Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        try:
            response = await self.clients[service].request(
                method, path, json=json, params=params, headers=headers
            )
        except httpx.TransportError as error:
            raise ServiceUnavailable(service) from error
        if response.status_code == 503:
            raise ServiceUnavailable(service)
        if response.is_error:
            raise _refusal(service, response)
        return response

    async def get(
        self, service: str, path: str, token: str | None, params: Mapping[str, Any] | None = None
    ) -> Any:
        return (await self.request(service, "GET", path, token, params=params)).json()

    async def send(
        self,
        service: str,
        method: str,
        path: str,
        token: str,
        body: Any = None,
        *,
        idempotency_key: str | None = None,
    ) -> Any:
        response = await self.request(
            service, method, path, token, json=body, idempotency_key=idempotency_key
        )
        return response.json() if response.content else None

    async def all_items(
        self, service: str, path: str, token: str, params: Mapping[str, Any] | None = None
    ) -> list[Any]:
        """Every item of a list endpoint, page after page.

        Paginated lists answer a JSON list and, while more follow, `Link: <…>; rel="next"`.
        Enrollment's in-memory lists still answer `{items, total, offset, limit}` pages until they
        move to tables (the items are the same); both are followed to the end here."""
        query: dict[str, Any] = {**(params or {}), "limit": PAGE_SIZE}
        items: list[Any] = []
        response = await self.request(service, "GET", path, token, params=query)
        while True:
            body = response.json()
            if isinstance(body, dict):  # an offset page
                items.extend(body["items"])
                following = body["offset"] + body["limit"]
                if following >= body["total"] or not body["items"]:
                    return items
                query["offset"] = following
                response = await self.request(service, "GET", path, token, params=query)
                continue
            items.extend(body)
            following_url = response.links.get("next", {}).get("url")
            if following_url is None:
                return items
            response = await self.request(
                service, "GET", self._same_service(service, following_url), token
            )

    def _same_service(self, service: str, url: str) -> str:
        """The next page's path and query; the token is never sent to another address."""
        base, target = self.clients[service].base_url, urlsplit(url)
        if target.netloc and (target.scheme, target.netloc) != (base.scheme, base.netloc.decode()):
            raise ServiceError(service, 502, "foreign_link", f"next page at {url}")
        return f"{target.path}?{target.query}" if target.query else target.path


def _refusal(service: str, response: httpx.Response) -> ServiceError:
    try:
        error = response.json()["error"]
        return ServiceError(
            service,
            response.status_code,
            str(error.get("code") or "http_error"),
            str(error.get("message") or ""),
            error.get("field"),
            error.get("details") or {},
        )
    except (ValueError, KeyError, TypeError, AttributeError):
        return ServiceError(service, response.status_code, "http_error")
