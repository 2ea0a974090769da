"""Heze's counties and districts, for the registration form's choice and a county bureau's
sign-in. No endpoint lists them; the enrollment service refuses any other name
(`unknown_county`), so a drift shows at once. A county bureau's token names its county by the
id enrollment derives from the name (its `org` claim, see the README's Auth section)."""

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
