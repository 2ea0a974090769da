"""Where certification learns a certificate holder's name and ID number: no event carries them,
so it asks enrollment, which holds them, by a service call (a claim check,
`heze_common.service_calls`), and keeps them in its own store for the certificate, the public
verification and the continuing-education list."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol
from uuid import UUID

import httpx

from heze_common.service_calls import ServiceCaller


@dataclass(frozen=True)
class HolderIdentity:
    name: str
    id_number: str = field(repr=False)  # never in a log line or a traceback


class HolderDirectory(Protocol):
    def identity_of(self, trainee_id: UUID) -> HolderIdentity | None:
        """The person's name and ID number; None once their data is erased."""


class PeerUnavailable(ConnectionError):
    """Enrollment did not answer: a consumer waits and asks again, never skipping the message."""


class EnrollmentHolders:
    """The holder directory over enrollment's `GET /internal/holders/{trainee_id}`."""

    def __init__(self, base_url: str, caller: ServiceCaller, timeout_seconds: float = 10.0):
        self.caller = caller
        self.client = httpx.Client(base_url=base_url, timeout=timeout_seconds)

    def identity_of(self, trainee_id: UUID) -> HolderIdentity | None:
        try:
            response = self.client.get(
                f"/internal/holders/{trainee_id}", headers=self.caller.headers("enrollment")
            )
        except httpx.TransportError as error:
            raise PeerUnavailable(f"enrollment did not answer: {type(error).__name__}") from error
        if response.status_code >= 500:
            raise PeerUnavailable(f"enrollment answered {response.status_code}")
        if response.status_code == 409 and _code(response) == "person_erased":
            return None
        if response.status_code != 200:  # a refused call or an unknown trainee: a bug to see
            raise LookupError(
                f"enrollment refused the holder of trainee {trainee_id}: {response.status_code}"
                f" {_code(response)}"
            )
        body = response.json()
        return HolderIdentity(name=body["name"], id_number=body["id_number"])

    def close(self) -> None:
        self.client.close()


def _code(response: httpx.Response) -> str | None:
    try:
        return response.json().get("error", {}).get("code")
    except ValueError:
        return None
