"""Fixtures of the contract tests: the samples of `samples.py`."""

from collections.abc import Callable
from uuid import UUID

import pytest

from contracts.tests.samples import ORIGIN_ID, ORIGIN_VERSION, build_sample
from heze_contracts import CATALOGUE, IntegrationEvent


@pytest.fixture(params=list(CATALOGUE.values()), ids=lambda event: event.EVENT_TYPE)
def sample(request: pytest.FixtureRequest) -> IntegrationEvent:
    """Each catalogued event in turn, built from its sample payload."""
    return build_sample(request.param)


@pytest.fixture
def build() -> Callable[[type[IntegrationEvent]], IntegrationEvent]:
    """Builds the sample of one event class."""
    return build_sample


@pytest.fixture
def origin() -> tuple[UUID, int]:
    """The aggregate id and version every sample was published for."""
    return ORIGIN_ID, ORIGIN_VERSION
