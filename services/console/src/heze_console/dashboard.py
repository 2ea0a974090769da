"""The city bureau's dashboard figures, counted from what the services' public endpoints give the
city bureau's own token: registrations, programmes and rosters (enrollment), the talent pool and
the deadline report (certification), and claims (subsidy). Assessment's applications and
certification's cases are not readable by the city bureau, so the funnel goes from registration
to training completion, then to the talent pool and the subsidies; of the certificate cases the
city sees only counts: per stage with a statutory deadline, how many deadlines were met, missed,
and are still open (`GET /reports/deadlines`, counted by certification from its tables)."""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass, field, fields
from typing import Any

from heze_console.services import Services
from heze_contracts.enums import Field

FUNNEL = (
    ("registered", "已报名登记"),
    ("enrolled", "已入班培训"),
    ("completed", "已结业"),
    ("certified", "已获等级证书（入人才库）"),
    ("claimed", "已申领补贴"),
    ("approved", "补贴已批准"),
    ("paid", "补贴已发放"),
)


@dataclass(frozen=True)
class StageDeadlines:
    """One stage's line of certification's deadline report: deadlines met (ended on or before
    the due date), overdue (ended late, or breached), still open within or past the due date,
    and withdrawn (the case closed in time, its assessment voided)."""

    stage: str
    met: int
    overdue: int
    open_within: int
    open_overdue: int
    withdrawn: int

    @classmethod
    def of(cls, line: dict[str, Any]) -> StageDeadlines:
        return cls(**{column.name: line[column.name] for column in fields(cls)})

    @property
    def charted(self) -> int:
        """The deadlines the chart stacks: all but the withdrawn."""
        return self.met + self.overdue + self.open_within + self.open_overdue


@dataclass
class Month:
    approved: int = 0
    approved_fen: int = 0
    paid: int = 0
    paid_fen: int = 0


@dataclass
class Figures:
    funnel: dict[str, int]
    refusals: Counter[str]
    months: dict[str, Month]
    pool_by_field: Counter[str]
    pool_by_county: Counter[str]
    pool_cells: Counter[tuple[str, str]] = field(default_factory=Counter)
    """Certificates in the pool per (field, county)."""
    counties: list[str] = field(default_factory=list)
    deadlines: list[StageDeadlines] = field(default_factory=list)
    """Per stage with a deadline, in the order a case meets them."""


async def figures(services: Services, token: str) -> Figures:
    registrations, programmes, pool, claims, deadlines = await asyncio.gather(
        services.all_items("enrollment", "/registrations", token),
        services.all_items("enrollment", "/programmes", token),
        services.all_items("certification", "/talent-pool", token),
        services.all_items("subsidy", "/claims", token),
        services.get("certification", "/reports/deadlines", token),
    )
    rosters = await asyncio.gather(
        *(
            services.all_items("enrollment", f"/programmes/{p['programme_id']}/roster", token)
            for p in programmes
        )
    )
    lines = [line for roster in rosters for line in roster]
    claimed_by: dict[str, set[str]] = {"claimed": set(), "approved": set(), "paid": set()}
    refusals: Counter[str] = Counter()
    months: dict[str, Month] = {}
    for claim in claims:
        claimed_by["claimed"].add(claim["trainee_id"])
        if claim["status"] in ("approved", "paid"):
            claimed_by["approved"].add(claim["trainee_id"])
            month = months.setdefault(claim["decided_on"][:7], Month())
            month.approved += 1
            month.approved_fen += claim["amount_fen"] or 0
        if claim["status"] == "paid":
            claimed_by["paid"].add(claim["trainee_id"])
            month = months.setdefault(claim["paid_on"][:7], Month())
            month.paid += 1
            month.paid_fen += claim["amount_fen"] or 0
        if claim["status"] == "rejected":
            refusals[claim["reason_code"]] += 1
    return Figures(
        funnel={
            "registered": len({r["trainee_id"] for r in registrations}),
            "enrolled": len({line["trainee_id"] for line in lines}),
            "completed": len(
                {line["trainee_id"] for line in lines if line["status"] == "completed"}
            ),
            "certified": len({member["trainee_id"] for member in pool}),
            **{stage: len(trainees) for stage, trainees in claimed_by.items()},
        },
        refusals=refusals,
        months=dict(sorted(months.items())),
        deadlines=[StageDeadlines.of(line) for line in deadlines],
        **_pool(pool),
    )


def _pool(pool: list[dict[str, Any]]) -> dict[str, Any]:
    by_field: Counter[str] = Counter()
    by_county: Counter[str] = Counter()
    cells: Counter[tuple[str, str]] = Counter()
    for member in pool:
        by_county[member["county"]] += 1
        for field_value, _level in member["certificates"].values():
            by_field[field_value] += 1
            cells[field_value, member["county"]] += 1
    ordered = {f.value: by_field[f.value] for f in Field if by_field[f.value]}
    return {
        "pool_by_field": Counter(ordered),
        "pool_by_county": by_county,
        "pool_cells": cells,
        "counties": sorted(by_county),
    }
