"""What the enrollment API's routers share: the application, request models, masking."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from fastapi import Depends, Request
from pydantic import Field as Constraint

from heze_common.auth import Principal, authenticated, require_roles
from heze_common.dispatch import get_application
from heze_contracts.enums import Role
from heze_enrollment.application import EnrollmentApplication

SessionHours = Annotated[Decimal, Constraint(gt=0, le=24, decimal_places=1)]
"""Hours of one session: more than zero, at most 24, at most one decimal place."""
RequiredHours = Annotated[Decimal, Constraint(gt=0, le=10000, decimal_places=1)]


def enrollment(request: Request) -> EnrollmentApplication:
    return get_application(request)  # type: ignore[return-value]


App = Annotated[EnrollmentApplication, Depends(enrollment)]
AnyRole = Annotated[Principal, Depends(authenticated)]
"""Any signed-in caller, whatever their role."""
CityBureau = Annotated[Principal, Depends(require_roles(Role.CITY_BUREAU))]


def mask_phone(phone: str) -> str:
    return phone[:3] + "*" * max(len(phone) - 7, 0) + phone[-4:]


def mask_id_number(number: str) -> str:
    return f"{number[:6]}********{number[14:]}"
