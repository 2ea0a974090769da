"""What the assessment service does with enrollment's facts about a trainee.

- `TrainingCompleted`: keeps the training certificate as the hours proof of that occupation and
  level, and accepts the applications that were waiting for it.
- `TraineeWithdrawn`: notes the withdrawal, and refuses the applications still waiting for that
  training.

Either fact may arrive before or after the application it decides: an application filed later
is decided on what the candidate already holds (`AssessmentApplication.apply`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import partial

from heze_assessment.application import AssessmentApplication
from heze_assessment.domain.application import Application
from heze_assessment.domain.candidate import Candidate
from heze_common.events import Aggregate
from heze_contracts import IntegrationEvent
from heze_contracts import enrollment as upstream


def on_training_completed(
    application: AssessmentApplication, event: upstream.TrainingCompleted
) -> list[Aggregate]:
    training = event.payload
    candidate = application.candidate(training.trainee_id)
    candidate.record_completion(
        training.occupation_code,
        training.level,
        training.training_certificate_number,
        training.completed_on,
    )
    return [candidate, *_decide_waiting(application, candidate)]


def on_trainee_withdrawn(
    application: AssessmentApplication, event: upstream.TraineeWithdrawn
) -> list[Aggregate]:
    withdrawal = event.payload
    candidate = application.candidate(withdrawal.trainee_id)
    candidate.record_withdrawal(withdrawal.occupation_code, withdrawal.level)
    return [candidate, *_decide_waiting(application, candidate)]


def _decide_waiting(application: AssessmentApplication, candidate: Candidate) -> list[Application]:
    decided = []
    for application_id in candidate.application_ids:
        filed = application.application(application_id)
        filed.decide_on_training(candidate)
        decided.append(filed)
    return decided


def handlers(
    application: AssessmentApplication,
) -> dict[type[IntegrationEvent], Callable[..., Iterable[Aggregate]]]:
    return {
        upstream.TrainingCompleted: partial(on_training_completed, application),
        upstream.TraineeWithdrawn: partial(on_trainee_withdrawn, application),
    }
