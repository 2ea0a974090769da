"""What the demo scenario's rules make of a cohort, computed without running anything: the
yardstick for every run of the whole system, disturbed or not."""

from __future__ import annotations

from collections import Counter

from heze_system.demo.cohort import cohort


def expected_counts(size: int) -> Counter[str]:
    counts: Counter[str] = Counter()
    for person in cohort(size):
        if person.flaw:
            continue
        counts["registered"] += 1
        counts["enrolled"] += 1
        if person.number % 41 == 5:
            counts["withdrawn"] += 1
            continue
        if person.number % 37 == 3:
            continue  # fails the completion exam
        counts["completed"] += 1
        counts["applied"] += 1
        counts["assessed"] += 1
        if person.number % 10 == 4:
            continue  # fails the level assessment
        counts["passed"] += 1
        counts["issued"] += 1
    return counts
