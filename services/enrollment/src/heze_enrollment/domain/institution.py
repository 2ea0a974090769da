"""Training institutions in the ministry's directory: only they may train, only within scope."""

from __future__ import annotations

from uuid import UUID, uuid5

from eventsourcing.domain import event

from heze_common.errors import InvalidInput, Refusal
from heze_common.events import Aggregate, AggregateCreated
from heze_contracts.enums import Field

DIRECTORY_NAMESPACE = UUID("8e4c2a1b-3d5f-5b7a-9c8e-1f2d3a4b5c6d")


class Institution(Aggregate):
    TOPIC = "enrollment.Institution"

    class Accredited(AggregateCreated):
        TOPIC = "enrollment.Institution.Accredited.v1"
        directory_number: int | None
        name: str
        fields: list[Field]
        contact_name: str
        contact_phone: str

    class ScopeChanged(Aggregate.Event):
        TOPIC = "enrollment.Institution.ScopeChanged.v1"
        fields: list[Field]

        def apply(self, institution: Institution) -> None:
            institution.fields = list(self.fields)

    class Suspended(Aggregate.Event):
        TOPIC = "enrollment.Institution.Suspended.v1"
        reason: str

        def apply(self, institution: Institution) -> None:
            institution.suspended = True

    class Reinstated(Aggregate.Event):
        TOPIC = "enrollment.Institution.Reinstated.v1"

        def apply(self, institution: Institution) -> None:
            institution.suspended = False

    class CityDirectoryListingChanged(Aggregate.Event):
        TOPIC = "enrollment.Institution.CityDirectoryListingChanged.v1"
        listed: bool

        def apply(self, institution: Institution) -> None:
            institution.in_city_training_directory = self.listed

    @staticmethod
    def create_id(name: str) -> UUID:
        """One institution per name: accrediting the same name twice is a conflict, not a copy."""
        return uuid5(DIRECTORY_NAMESPACE, name.strip())

    @event(Accredited)
    def __init__(
        self,
        directory_number: int | None,
        name: str,
        fields: list[Field],
        contact_name: str,
        contact_phone: str,
    ) -> None:
        self.directory_number = directory_number
        self.name = name
        self.fields = list(fields)
        self.contact_name = contact_name
        self.contact_phone = contact_phone
        self.suspended = False
        self.in_city_training_directory = False

    @classmethod
    def accredit(
        cls,
        directory_number: int | None,
        name: str,
        fields: list[Field],
        contact_name: str,
        contact_phone: str,
    ) -> Institution:
        _check_scope(fields)
        if directory_number is not None and directory_number < 1:
            raise InvalidInput(
                "invalid_directory_number",
                "a directory number counts from 1",
                field="directory_number",
            )
        return cls(
            directory_number=directory_number,
            name=name.strip(),
            fields=sorted(set(fields)),
            contact_name=contact_name,
            contact_phone=contact_phone,
        )

    def change_scope(self, fields: list[Field]) -> None:
        _check_scope(fields)
        self.trigger_event(self.ScopeChanged, fields=sorted(set(fields)))

    def suspend(self, reason: str) -> None:
        if self.suspended:
            raise Refusal("already_suspended", "the institution is already suspended")
        self.trigger_event(self.Suspended, reason=reason)

    def reinstate(self) -> None:
        if not self.suspended:
            raise Refusal("not_suspended", "the institution is not suspended")
        self.trigger_event(self.Reinstated)

    def list_in_city_directory(self, listed: bool) -> None:
        if listed != self.in_city_training_directory:
            self.trigger_event(self.CityDirectoryListingChanged, listed=listed)

    def ensure_may_train(self, field: Field) -> None:
        if self.suspended:
            raise Refusal("institution_suspended", f"{self.name} is suspended from the directory")
        if field not in self.fields:
            raise Refusal(
                "outside_scope",
                f"{field.label} is outside {self.name}'s accredited scope",
                field="occupation_code",
            )


def _check_scope(fields: list[Field]) -> None:
    if not fields:
        raise InvalidInput(
            "empty_scope", "an institution's scope needs at least one field", field="fields"
        )


SEED_DIRECTORY = (
    (1, "中国石油大学(华东)", [Field.BIG_DATA, Field.BLOCKCHAIN], "唐莉", "0532-86980900"),
    (2, "中国海洋大学", [Field.BIG_DATA], "赵洪华", "0532-85902926"),
    (3, "鲁东大学", [Field.INTELLIGENT_MANUFACTURING], "张文峰", "0535-6659402"),
)
"""Shandong's directory as printed in the plan (which skips number 4)."""
