"""The occupation table and training-hour requirements: data the city bureau sets, each entry
recorded as an event with the date it takes effect, so a decision can name the rule it used."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from uuid import UUID, uuid5

from eventsourcing.domain import event

from heze_common.errors import InvalidInput, NotFound
from heze_common.events import Aggregate, AggregateCreated
from heze_contracts.enums import Field, HourKind, Level

OCCUPATION_TABLE_ID = uuid5(UUID("5d2f1c3a-7b6e-5a4d-8c9b-0e1f2a3b4c5d"), "occupation-table")


@dataclass(frozen=True)
class Occupation:
    code: str
    field: Field
    name: str
    effective_from: date


@dataclass(frozen=True)
class HourRequirement:
    code: str
    level: Level
    hours: dict[HourKind, Decimal]
    effective_from: date


class OccupationTable(Aggregate):
    TOPIC = "enrollment.OccupationTable"

    class Started(AggregateCreated):
        TOPIC = "enrollment.OccupationTable.Started.v1"

    class OccupationDefined(Aggregate.Event):
        TOPIC = "enrollment.OccupationTable.OccupationDefined.v1"
        code: str
        field: Field
        name: str
        effective_from: date

        def apply(self, table: OccupationTable) -> None:
            table.occupations.setdefault(self.code, []).append(
                Occupation(self.code, self.field, self.name, self.effective_from)
            )

    class HourRequirementSet(Aggregate.Event):
        TOPIC = "enrollment.OccupationTable.HourRequirementSet.v1"
        code: str
        level: Level
        hours: dict[HourKind, Decimal]
        effective_from: date

        def apply(self, table: OccupationTable) -> None:
            table.requirements.setdefault((self.code, self.level), []).append(
                HourRequirement(self.code, self.level, dict(self.hours), self.effective_from)
            )

    @staticmethod
    def create_id() -> UUID:
        return OCCUPATION_TABLE_ID

    @event(Started)
    def __init__(self) -> None:
        self.occupations: dict[str, list[Occupation]] = {}
        self.requirements: dict[tuple[str, Level], list[HourRequirement]] = {}

    def define_occupation(self, code: str, field: Field, name: str, effective_from: date) -> None:
        self.trigger_event(
            self.OccupationDefined, code=code, field=field, name=name, effective_from=effective_from
        )

    def set_hour_requirement(
        self, code: str, level: Level, hours: dict[HourKind, Decimal], effective_from: date
    ) -> None:
        if code not in self.occupations:
            raise NotFound("unknown_occupation", f"no occupation {code} in the table", field="code")
        if set(hours) != set(HourKind) or any(value <= 0 for value in hours.values()):
            raise InvalidInput(
                "invalid_hour_requirement", "give positive theory and practice hours", field="hours"
            )
        self.trigger_event(
            self.HourRequirementSet,
            code=code,
            level=level,
            hours=hours,
            effective_from=effective_from,
        )

    def occupation(self, code: str, on: date) -> Occupation:
        version = _in_force(self.occupations.get(code, []), on)
        if version is None:
            raise InvalidInput(
                "unknown_occupation",
                f"occupation {code} is not in the table on {on}",
                field="occupation_code",
            )
        return version

    def hour_requirement(self, code: str, level: Level, on: date) -> HourRequirement | None:
        return _in_force(self.requirements.get((code, level), []), on)

    def current(self, on: date) -> list[Occupation]:
        return [
            version
            for code in sorted(self.occupations)
            if (version := _in_force(self.occupations[code], on))
        ]


def _in_force(versions: list, on: date):  # noqa: ANN202 - Occupation or HourRequirement
    applicable = [version for version in versions if version.effective_from <= on]
    return max(applicable, key=lambda version: version.effective_from) if applicable else None


SEED_EFFECTIVE_FROM = date(2023, 4, 27)  # the plan's date

SEED_OCCUPATIONS = (
    ("2-02-10-09", Field.ARTIFICIAL_INTELLIGENCE, "人工智能工程技术人员"),
    ("2-02-10-10", Field.INTERNET_OF_THINGS, "物联网工程技术人员"),
    ("2-02-10-11", Field.BIG_DATA, "大数据工程技术人员"),
    ("2-02-10-12", Field.CLOUD_COMPUTING, "云计算工程技术人员"),
    ("2-02-07-13", Field.INTELLIGENT_MANUFACTURING, "智能制造工程技术人员"),
    ("2-02-10-13", Field.INDUSTRIAL_INTERNET, "工业互联网工程技术人员"),
    ("2-02-10-14", Field.VIRTUAL_REALITY, "虚拟现实工程技术人员"),
    ("2-02-10-15", Field.BLOCKCHAIN, "区块链工程技术人员"),
)

# Example figures (the plan leaves them to the national standards); the bureau replaces them.
SEED_HOURS = {
    Level.JUNIOR: {HourKind.THEORY: Decimal("80.0"), HourKind.PRACTICE: Decimal("48.0")},
    Level.INTERMEDIATE: {HourKind.THEORY: Decimal("80.0"), HourKind.PRACTICE: Decimal("48.0")},
    Level.SENIOR: {HourKind.THEORY: Decimal("96.0"), HourKind.PRACTICE: Decimal("64.0")},
}


def seeded_occupation_table() -> OccupationTable:
    table = OccupationTable()
    for code, field, name in SEED_OCCUPATIONS:
        table.define_occupation(code, field, name, SEED_EFFECTIVE_FROM)
        for level, hours in SEED_HOURS.items():
            table.set_hour_requirement(code, level, hours, SEED_EFFECTIVE_FROM)
    return table
