"""HTTP API of the assessment service."""

from heze_assessment.api.applications import router as applications_router
from heze_assessment.api.institutions import router as institutions_router
from heze_assessment.api.sessions import router as sessions_router

ROUTERS = (institutions_router, applications_router, sessions_router)
