"""What the enrollment API's routers share: the application, request models, pagination."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Generic, TypeVar

from fastapi import Depends, Query, Request
from pydantic import BaseModel
from pydantic import Field as Constraint

from heze_common.commands import get_application
from heze_enrollment.application import EnrollmentApplication

T = TypeVar("T")

SessionHours = Annotated[Decimal, Constraint(gt=0, le=24, decimal_places=1)]
"""Hours of one session: more than zero, at most 24, at most one decimal place."""
RequiredHours = Annotated[Decimal, Constraint(gt=0, le=10000, decimal_places=1)]


def enrollment(request: Request) -> EnrollmentApplication:
    return get_application(request)  # type: ignore[return-value]


App = Annotated[EnrollmentApplication, Depends(enrollment)]


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    offset: int
    limit: int


class Paging(BaseModel):
    offset: int = 0
    limit: int = 50


def paging(
    offset: Annotated[int, Query(ge=0)] = 0, limit: Annotated[int, Query(ge=1, le=500)] = 50
) -> Paging:
    return Paging(offset=offset, limit=limit)


PageQuery = Annotated[Paging, Depends(paging)]


def page_of(items: list[T], paging: Paging) -> Page[T]:
    return Page(
        items=items[paging.offset : paging.offset + paging.limit],
        total=len(items),
        offset=paging.offset,
        limit=paging.limit,
    )


def mask_phone(phone: str) -> str:
    return phone[:3] + "*" * max(len(phone) - 7, 0) + phone[-4:]


def mask_id_number(number: str) -> str:
    return f"{number[:6]}********{number[14:]}"
