"""What the assessment API's routers share."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from heze_assessment.application import AssessmentApplication
from heze_common.dispatch import get_application


def assessment(request: Request) -> AssessmentApplication:
    return get_application(request)  # type: ignore[return-value]


App = Annotated[AssessmentApplication, Depends(assessment)]
