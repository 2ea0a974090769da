"""Failpoints are armed only by an exact, valid spec: a typo must stop the process, or a crash
test would pass without crashing anything."""

from __future__ import annotations

import re

import pytest

from heze_common.failpoints import parse


def test_a_spec_arms_the_named_points_with_their_probabilities() -> None:
    assert parse("relay.mid_batch=0.5, consumer.before_ack=1") == {
        "relay.mid_batch": 0.5,
        "consumer.before_ack": 1.0,
    }
    assert parse("") == {}


@pytest.mark.parametrize(
    ("spec", "complaint"),
    [
        ("relay.midbatch=0.1", "unknown failpoint 'relay.midbatch'"),
        ("relay.mid_batch", "relay.mid_batch needs a probability, not ''"),
        ("consumer.mid_handler=often", "needs a probability, not 'often'"),
        ("consumer.mid_handler=1.5", "probability must lie in [0, 1]"),
    ],
)
def test_a_bad_spec_is_refused_by_name(spec: str, complaint: str) -> None:
    with pytest.raises(ValueError, match=re.escape(complaint)):
        parse(spec)
