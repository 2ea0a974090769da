"""A realistic Heze intake, generated deterministically: names, ID numbers of Heze's counties,
education, and the share of people a real intake refuses."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta

# Heze's county-level divisions and their ID number region codes.
COUNTIES = {
    "牡丹区": "371702",
    "定陶区": "371703",
    "曹县": "371721",
    "单县": "371722",
    "成武县": "371723",
    "巨野县": "371724",
    "郓城县": "371725",
    "鄄城县": "371726",
    "东明县": "371728",
}
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段雷钱汤尹黎易常武乔贺赖龚文"
GIVEN = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉萍红鹏飞鑫宇浩然欣怡子涵梓轩晨曦嘉琪思远雨桐"
)
MAJORS = (
    "计算机科学与技术",
    "数据科学与大数据技术",
    "软件工程",
    "物联网工程",
    "机械设计制造及其自动化",
    "电子信息工程",
    "区块链工程",
)
EMPLOYERS = ("菏泽市某数据服务有限公司", "山东某智能装备有限公司", "菏泽某信息技术有限公司", None)
WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def id_number(region: str, birth: date, sequence: int, *, valid: bool = True) -> str:
    first = f"{region}{birth:%Y%m%d}{sequence:03d}"
    check = "10X98765432"[sum(int(d) * w for d, w in zip(first, WEIGHTS, strict=True)) % 11]
    if not valid:  # a typo in the check character, as real intake forms have
        check = "10X98765432"[("10X98765432".index(check) + 3) % 11]
    return first + check


@dataclass
class Person:
    number: int
    name: str
    id_number: str
    county: str
    female: bool
    major: str
    employer: str | None
    flaw: str | None
    """`invalid_id_number` or `retired` for the people registration refuses."""


def cohort(size: int, seed: int = 2023) -> list[Person]:
    rng = random.Random(seed)
    people = []
    for number in range(size):
        county = rng.choice(list(COUNTIES))
        female = number % 2 == 1
        flaw = None
        if number % 25 == 7:
            flaw = "invalid_id_number"
        elif number % 33 == 11:
            flaw = "retired"
        born = date(1958 if flaw == "retired" else rng.randint(1981, 2003), 1, 1) + timedelta(
            days=rng.randint(0, 364)
        )
        sequence = rng.randint(0, 498) // 2 * 2 + (0 if female else 1)
        people.append(
            Person(
                number=number,
                name=rng.choice(SURNAMES)
                + "".join(rng.choice(GIVEN) for _ in range(rng.randint(1, 2))),
                id_number=id_number(
                    COUNTIES[county], born, sequence, valid=flaw != "invalid_id_number"
                ),
                county=county,
                female=female,
                major=rng.choice(MAJORS),
                employer=rng.choice(EMPLOYERS),
                flaw=flaw,
            )
        )
    return people
