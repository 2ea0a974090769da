"""What the assessment API's routers share."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from fastapi import Depends, Request
from pydantic import BaseModel, ConfigDict
from pydantic import Field as Constraint

from heze_assessment.application import AssessmentApplication
from heze_common.commands import get_application


def assessment(request: Request) -> AssessmentApplication:
    return get_application(request)  # type: ignore[return-value]


App = Annotated[AssessmentApplication, Depends(assessment)]

Mark = Annotated[Decimal, Constraint(ge=0, le=100, decimal_places=1)]
"""A score out of 100 with at most one decimal place."""


class Body(BaseModel):
    """Request bodies: unknown fields are an error, not silently dropped."""

    model_config = ConfigDict(extra="forbid")
