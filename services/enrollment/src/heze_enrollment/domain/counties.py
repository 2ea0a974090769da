"""Heze's counties and districts: a county bureau's organisation id is its county's id."""

from __future__ import annotations

from uuid import UUID, uuid5

COUNTY_NAMESPACE = UUID("3b7d6c1e-8f2a-5e4b-9d1c-7a6e5f4b3c2d")

COUNTIES = (
    "牡丹区",
    "定陶区",
    "曹县",
    "单县",
    "成武县",
    "巨野县",
    "郓城县",
    "鄄城县",
    "东明县",
    "菏泽高新区",
    "菏泽经济开发区",
)


def county_id(county: str) -> UUID:
    return uuid5(COUNTY_NAMESPACE, county)


COUNTY_BY_ID = {county_id(name): name for name in COUNTIES}
