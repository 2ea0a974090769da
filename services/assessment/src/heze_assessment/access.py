"""Who may read or act on an application: the trainee who filed it, the evaluation institution it
was filed with, and the provincial department and auditors (as their roles allow)."""

from __future__ import annotations

from heze_assessment.domain.application import Application
from heze_common.auth import Principal
from heze_common.errors import Forbidden
from heze_contracts.enums import Role


def ensure_may_access(principal: Principal, application: Application) -> None:
    if principal.role is Role.TRAINEE and principal.subject != str(application.trainee_id):
        raise Forbidden("not_your_application", "a trainee reads only their own applications")
    if principal.role is Role.EVALUATION_INSTITUTION:
        principal.ensure_acts_for(application.evaluation_institution_id)
