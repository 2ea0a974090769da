from __future__ import annotations

import uuid

import pytest


@pytest.fixture
def topic_prefix() -> str:
    return f"t{uuid.uuid4().hex[:10]}."
