"""Read models of the assessment service: evaluation institutions and applications."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any
from uuid import UUID

from heze_assessment.domain.application import Application
from heze_assessment.domain.evaluation_institution import EvaluationInstitution
from heze_common.projection import Projection


class EvaluationInstitutions(Projection):
    def __init__(self) -> None:
        self.ids: list[UUID] = []

    def handlers(self) -> Mapping[type, Callable[[Any], None]]:
        return {
            EvaluationInstitution.Registered: lambda event: self.ids.append(event.originator_id)
        }


class Applications(Projection):
    """Application ids per evaluation institution and per trainee, in filing order."""

    def __init__(self) -> None:
        self.by_institution: dict[UUID, list[UUID]] = {}
        self.by_trainee: dict[UUID, list[UUID]] = {}

    def handlers(self) -> Mapping[type, Callable[[Any], None]]:
        return {Application.Filed: self._filed}

    def _filed(self, event: Application.Filed) -> None:
        self.by_institution.setdefault(event.evaluation_institution_id, []).append(
            event.originator_id
        )
        self.by_trainee.setdefault(event.trainee_id, []).append(event.originator_id)
