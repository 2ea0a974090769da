"""What the certification API's routers share."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from heze_certification.application import CertificationApplication
from heze_common.dispatch import get_application


def certification(request: Request) -> CertificationApplication:
    return get_application(request)  # type: ignore[return-value]


App = Annotated[CertificationApplication, Depends(certification)]
