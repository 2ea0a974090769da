"""HTTP API of the subsidy service."""

from heze_subsidy.api.claims import router as claims_router
from heze_subsidy.api.reimbursements import router as reimbursements_router
from heze_subsidy.api.rules import router as rules_router

ROUTERS = (rules_router, claims_router, reimbursements_router)
