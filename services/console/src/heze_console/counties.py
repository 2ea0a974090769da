"""Heze's counties and districts, for the registration form's choice. No endpoint lists them;
the enrollment service refuses any other name (`unknown_county`), so a drift shows at once."""

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
