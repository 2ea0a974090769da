"""HTTP API of the certification service."""

from heze_certification.api.cases import router as cases_router
from heze_certification.api.credentials import router as credentials_router
from heze_certification.api.talent import router as talent_router
from heze_certification.api.verification import router as verification_router

ROUTERS = (cases_router, credentials_router, talent_router, verification_router)
