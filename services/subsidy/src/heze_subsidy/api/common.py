"""What the subsidy API's routers share."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from heze_common.dispatch import get_application
from heze_subsidy.application import SubsidyApplication


def subsidy(request: Request) -> SubsidyApplication:
    return get_application(request)  # type: ignore[return-value]


App = Annotated[SubsidyApplication, Depends(subsidy)]
