"""What the subsidy API's routers share."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from heze_common.commands import get_application
from heze_common.views import ViewReader
from heze_subsidy.application import SubsidyApplication


def subsidy(request: Request) -> SubsidyApplication:
    return get_application(request)  # type: ignore[return-value]


App = Annotated[SubsidyApplication, Depends(subsidy)]


def views(request: Request) -> ViewReader:
    return request.app.state.views  # type: ignore[no-any-return]


Views = Annotated[ViewReader, Depends(views)]
