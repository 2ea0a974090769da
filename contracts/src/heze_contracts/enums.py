"""Vocabulary of the contracts: wire values in lower snake-case English, `label` in Chinese."""

from enum import StrEnum
from typing import Self

__all__ = [
    "CertificateStage",
    "Education",
    "ErasureGrounds",
    "Field",
    "HourKind",
    "HourMode",
    "Level",
    "ParticipantCategory",
    "Producer",
    "RetirementGroup",
    "Role",
    "Sex",
]


class _Labelled(StrEnum):
    label: str

    def __new__(cls, value: str, label: str) -> Self:
        member = str.__new__(cls, value)
        member._value_ = value
        member.label = label
        return member


class Field(_Labelled):
    """The ten digital-technology fields of the programme."""

    ARTIFICIAL_INTELLIGENCE = "artificial_intelligence", "人工智能"
    INTERNET_OF_THINGS = "internet_of_things", "物联网"
    BIG_DATA = "big_data", "大数据"
    CLOUD_COMPUTING = "cloud_computing", "云计算"
    DIGITAL_MANAGEMENT = "digital_management", "数字化管理"
    INTELLIGENT_MANUFACTURING = "intelligent_manufacturing", "智能制造"
    INDUSTRIAL_INTERNET = "industrial_internet", "工业互联网"
    VIRTUAL_REALITY = "virtual_reality", "虚拟现实"
    BLOCKCHAIN = "blockchain", "区块链"
    INTEGRATED_CIRCUITS = "integrated_circuits", "集成电路"


class ErasureGrounds(_Labelled):
    """Why a person's data was erased."""

    REQUEST = "request", "依申请删除"
    """The city bureau's decision, on the person's request or otherwise, with its reason."""
    RETENTION = "retention", "保存期满删除"
    """A registrant the programme need not keep (never enrolled, or withdrew), past the
    retention period."""


class Level(_Labelled):
    JUNIOR = "junior", "初级"
    INTERMEDIATE = "intermediate", "中级"
    SENIOR = "senior", "高级"


class Role(_Labelled):
    CITY_BUREAU = "city_bureau", "市人社局"
    COUNTY_BUREAU = "county_bureau", "县区人社局"
    TRAINING_INSTITUTION = "training_institution", "培训机构"
    TRAINEE = "trainee", "学员"
    EVALUATION_INSTITUTION = "evaluation_institution", "评价机构"
    PROVINCIAL_DEPARTMENT = "provincial_department", "省人社厅"
    NATIONAL_OFFICE = "national_office", "专业技术人员知识工程指导协调小组办公室"
    EMPLOYER = "employer", "用人单位"
    AUDITOR = "auditor", "审计人员"


class Producer(_Labelled):
    """The service that publishes an integration event."""

    ENROLLMENT = "enrollment", "培训报名"
    ASSESSMENT = "assessment", "等级评价"
    CERTIFICATION = "certification", "证书管理"
    SUBSIDY = "subsidy", "培训补贴"


class Sex(_Labelled):
    MALE = "male", "男"
    FEMALE = "female", "女"


class Education(_Labelled):
    BELOW_COLLEGE = "below_college", "大专以下"
    COLLEGE = "college", "大专"
    BACHELOR = "bachelor", "本科"
    SECOND_BACHELOR = "second_bachelor", "第二学士学位"
    MASTER = "master", "硕士研究生"
    DOCTORATE = "doctorate", "博士研究生"


class ParticipantCategory(_Labelled):
    GRADUATING_STUDENT = "graduating_student", "应届毕业生"
    DIGITAL_WORKER = "digital_worker", "数字技术从业人员"
    ASPIRING_DIGITAL_WORKER = "aspiring_digital_worker", "拟从事数字技术工作人员"


class HourKind(_Labelled):
    THEORY = "theory", "理论"
    PRACTICE = "practice", "实践"


class HourMode(_Labelled):
    ONLINE = "online", "线上"
    OFFLINE = "offline", "线下"


class CertificateStage(_Labelled):
    """The deadline-bound steps from assessment to certificate."""

    REPORT_TO_PROVINCE = "report_to_province", "上报省人社厅"
    PROVINCE_CONFIRMATION = "province_confirmation", "省级确认"
    NATIONAL_REVIEW = "national_review", "国家审核"
    ISSUANCE = "issuance", "证书颁发"


class RetirementGroup(_Labelled):
    """A woman's statutory retirement group; the ID number cannot tell it, so it is asked."""

    FEMALE_50 = "female_50", "原法定退休年龄50周岁的女职工"
    FEMALE_55 = "female_55", "原法定退休年龄55周岁的女职工"
