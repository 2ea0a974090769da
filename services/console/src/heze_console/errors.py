"""Every refusal the services return, in precise Chinese naming the field.

The services answer `{"error": {"code", "message", "field", "details"}}` with English messages
for developers. A page shows `describe(error)`: the field's Chinese name and what the code means.
`tests/test_error_catalogue.py` fails when a service raises a code missing here."""

from __future__ import annotations

from dataclasses import dataclass
from heze_console.pipeline import unmet
from heze_console.services import ServiceError

MESSAGES: dict[str, str] = {
    # Tokens and access
    "missing_token": "请先登录",
    "invalid_token": "登录凭证无效，请重新登录",
    "token_expired": "登录已过期，请重新登录",
    "role_not_allowed": "当前身份无权进行此操作",
    "other_organisation": "只能办理本单位的业务",
    "not_an_institution": "只有培训机构可以发布招生简章",
    "other_county": "县区人社局只能查看本县区的数据",
    "not_a_county": "当前登录单位不是菏泽市的县区",
    "not_your_trainee": "该学员不属于当前账号或本机构",
    "not_your_claim": "只能查看或申领本人的补贴",
    "not_your_application": "只能查看本人的评价申请",
    "not_your_record": "只能查看本人的记录",
    "not_your_certificate": "只能查看本人或本机构颁发的证书",
    "no_trainee_id": "登录账号未关联学员编号，请先完成报名登记",
    "institution_claims_off": "现行政策不允许培训机构代为申领补贴",
    # Registration (enrollment)
    "invalid_id_number": "身份证号码无效：须为 18 位，出生日期真实，末位校验码正确",
    "id_number_mismatch": "与身份证号码中的信息不一致",
    "retired": "已退休人员（已领取养老金或已达法定退休年龄）不能报名",
    "retirement_group_required": "女性须选择原法定退休年龄（50 周岁或 55 周岁）",
    "retirement_group_not_applicable": "原法定退休年龄只适用于女性，男性无需填写",
    "already_registered": "您已完成报名登记",
    "identity_not_verified": "登录时未完成实名认证，请重新登录并核验身份证号码",
    "identity_mismatch": "与登录时实名认证的身份证号码不一致，只能为本人报名登记",
    "consent_required": "机构代为登记须先取得本人同意",
    # Service calls (not reached from the console; listed so every code has a message)
    "invalid_call_token": "服务间调用凭证无效",
    "caller_not_allowed": "该服务无权调用此接口",
    "invalid_phone": "请填写 11 位手机号码或带区号的固定电话",
    "blank_name": "不能为空",
    "unknown_county": "不是菏泽市的县区",
    # Institutions and programmes (enrollment)
    "already_accredited": "该机构已在目录中",
    "invalid_directory_number": "目录序号须为正整数",
    "empty_scope": "至少选择一个领域",
    "already_suspended": "该机构已暂停",
    "not_suspended": "该机构未被暂停",
    "institution_suspended": "机构已被暂停，不能办理此项业务",
    "outside_scope": "该职业不在本机构的培训范围（目录清单）内",
    "unknown_occupation": "不是现行职业目录中的职业",
    "invalid_capacity": "招生人数至少为 1",
    "invalid_dates": "结束日期不能早于开始日期",
    "missing_required_hours": "须同时填写理论和实践学时，或都不填以采用市人社局的要求",
    "below_required_hours": "低于市人社局要求的学时",
    "invalid_hour_requirement": "学时要求须大于 0",
    "programme_closed": "该培训班已停止招生",
    "programme_ended": "该培训班已结束",
    "programme_full": "该培训班名额已满",
    "already_enrolled": "已报名该培训班",
    "already_enrolled_same_level": "已报名同一职业同一等级的其他培训班",
    "not_enrolled": "该学员未报名此培训班",
    "unknown_programme": "未找到该培训班",
    # Training record (enrollment)
    "invalid_hours": "学时须大于 0、不超过 24，最多一位小数",
    "daily_hours_exceeded": "该学员当天累计学时将超过 24 小时",
    "date_outside_programme": "日期不在培训班的起止日期内",
    "trainee_withdrawn": "该学员已退出培训",
    "barred_from_applying": "承诺事项经核查不实，在限制期内不能再次申请该职业的评价",
    "already_completed": "该学员已结业",
    "hours_not_met": "学时未达到培训班要求",
    "exam_not_taken": "尚未录入结业考核成绩",
    "exam_not_passed": "结业考核成绩未达到合格分数",
    "invalid_score": "成绩须在 0 到 100 之间，最多一位小数",
    "blank_reason": "请填写原因",
    "reason_required": "请填写原因",
    # Personal data
    "person_erased": "该人员的个人信息已依法删除，不能再办理或查看",
    "reason_names_the_person": "删除原因将永久保存，不能包含本人的姓名、身份证号码或电话",
    "invalid_retention_days": "保存期限须为 1 至 3650 天",
    "effective_date_in_past": "生效日期不能早于今天",
    # Assessment
    "already_applied": "已提交同一职业同一等级的评价申请",
    "not_assessable": "该评价机构不能评价此职业",
    "evaluation_institution_suspended": "该评价机构已被暂停",
    "commitment_not_signed": "须阅读并签署告知承诺书",
    "conditions_not_met": "不符合申报条件",
    "no_rules_in_force": "该职业当前没有生效的申报条件",
    "wrong_stage": "当前阶段不能办理此项业务",
    "not_assigned": "该申请未安排到此考核场次",
    "wrong_session": "考核场次的职业或等级与申请不符",
    "other_institution": "该申请属于其他评价机构",
    "already_scored": "成绩已录入，如需修改请提交更正并说明原因",
    "not_scored": "尚未录入成绩",
    "already_voided": "该评价结果已作废",
    "nothing_to_void": "没有可作废的评价结果",
    "result_voided": "该评价结果已作废",
    # Certification
    "not_issued": "证书尚未颁发",
    "not_in_talent_pool": "只有已入人才库的工程师才能标记突出贡献",
    "unknown_certificate": "未查到该证书",
    "no_training_certificate": "该学员尚未取得本项目的培训合格证书",
    "date_outside_year": "日期不在该年度内",
    "conflicting_days": "同一天不能既是节假日又是调休上班日",
    "rate_limited": "查询过于频繁，请一分钟后再试",
    # Subsidy (also the reasons a claim is refused)
    "already_decided": "该申请已有审核结果",
    "already_paid": "该补贴已发放",
    "not_approved": "只有已批准的补贴才能登记发放",
    "claim_cancelled": "该补贴已撤销：所依据的证书已被撤销，不能发放",
    "already_reimbursed": "该学员此培训班的学费已报销过",
    "invalid_amount": "金额须大于 0",
    "invalid_cap": "每年申领上限至少为 1 次",
    "trainee_id_required": "机构代为申领时须指明学员",
    "not_in_subsidised_plan": "该培训班不在市级补贴性培训计划内",
    "programme_mismatch": "培训班的职业或等级与申请不符",
    "not_completed": "尚未结业",
    "certificate_missing": "没有该职业该等级的有效证书",
    "already_subsidised": "一年内已享受过同一职业同一等级的培训补贴",
    "yearly_cap_reached": "已达到每年申领补贴的次数上限",
    "no_standard": "该职业该等级当前没有补贴标准",
    # Plumbing every service shares
    "invalid_request": "填写有误",
    "body_too_large": "提交的内容过大",
    "request_timeout": "请求超时，请重试",
    "concurrent_update": "记录刚被他人修改，请重试",
    "idempotency_key_reused": "重复提交的内容与首次不同，未受理",
    "invalid_idempotency_key": "提交标识无效",
    "unknown_cursor": "翻页位置已失效，请从第一页重新查看",
    "invalid_range": "结束时间不能早于开始时间",
    "rebuild_running": "读模型正在重建，请稍后再试",
    "unknown_aggregate": "未找到该记录",
    "not_yet_existing": "该时点该记录尚不存在",
    "not_found": "未找到该记录",
    "method_not_allowed": "不支持此操作",
    "http_error": "服务返回了无法识别的答复",
    "store_unavailable": "服务暂时不可用，请稍后再试",
    "foreign_link": "服务返回了指向其他地址的翻页链接，已拒绝",
}

FIELDS: dict[str, str] = {
    "name": "姓名",
    "id_number": "身份证号码",
    "sex": "性别",
    "birth_date": "出生日期",
    "phone": "联系电话",
    "education": "学历",
    "major": "所学专业",
    "employer": "工作单位",
    "county": "所在县区",
    "participant_category": "人员类别",
    "draws_pension": "是否已领取养老金",
    "retirement_group": "原法定退休年龄",
    "person_consents": "本人同意",
    "programme_id": "培训班",
    "trainee_id": "学员",
    "occupation_code": "职业",
    "code": "职业编码",
    "level": "等级",
    "title": "培训班名称",
    "capacity": "招生人数",
    "starts_on": "开始日期",
    "ends_on": "结束日期",
    "required_hours": "要求学时",
    "required_hours.theory": "理论学时",
    "required_hours.practice": "实践学时",
    "completion_pass_mark": "结业合格分数",
    "date": "日期",
    "hours": "学时",
    "kind": "学时类型",
    "mode": "培训方式",
    "score": "成绩",
    "reason": "原因",
    "days": "保存期限（天）",
    "fields": "培训领域",
    "directory_number": "目录序号",
    "contact_name": "联系人",
    "contact_phone": "联系电话",
    "declaration": "申报信息",
    "commitment_signed": "告知承诺书",
    "commitment_text": "告知承诺书",
    "evaluation_institution_id": "评价机构",
    "application_id": "评价申请",
    "application_ids": "评价申请",
    "occupations": "可评价职业",
    "amount_fen": "补贴金额",
    "yearly_cap": "每年申领上限",
    "effective_from": "生效日期",
    "effective_to": "失效日期",
    "makeup_workdays": "调休上班日",
    "holidays": "节假日",
    "payment_reference": "支付凭证号",
    "reasons": "退回原因",
    "held_on": "考核日期",
    "place": "考核地点",
    "theory_score": "理论考试成绩",
    "practical_score": "实操考核成绩",
    "confirm": "资格审核结论",
    "years_in_occupation": "从事本职业年限",
    "major_relevant": "所学专业与本职业相关",
    "graduating_student": "应届毕业生",
    "prior_levels": "已取得的等级证书",
    "subsidised_plan": "市级补贴性培训计划",
    "in_city_training_directory": "市级培训目录",
    "number": "证书编号",
    "after": "翻页位置",
    "limit": "每页条数",
    "from": "起始日期",
    "to": "截止日期",
    "body": "提交内容",
    "Idempotency-Key": "提交标识",
}

RULES: dict[str, str] = {
    "missing": "必填",
    "string_too_long": "内容过长",
    "string_too_short": "不能为空",
    "string_pattern_mismatch": "不能为空或格式不正确",
    "person_name": "只能包含汉字（含生僻字）或拉丁字母，各部分之间可用 · - ' . 或空格",
    "control_character": "含有不允许的控制字符",
    "date_format": "日期须写作 年-月-日（如 2026-03-01）",
    "date_from_datetime_parsing": "日期不存在",
    "date_parsing": "日期不存在",
    "datetime_format": "时间格式不正确",
    "decimal_parsing": "须为数字",
    "decimal_max_places": "最多一位小数",
    "decimal_max_digits": "数字过长",
    "float_parsing": "须为数字",
    "int_parsing": "须为整数",
    "int_type": "须为整数",
    "greater_than": "须大于 0",
    "greater_than_equal": "数值过小",
    "less_than_equal": "数值过大",
    "less_than": "数值过大",
    "enum": "不是可选的值",
    "literal_error": "不是可选的值",
    "bool_type": "须为是或否",
    "uuid_parsing": "编号格式不正确",
    "extra_forbidden": "不应填写此项",
    "json_invalid": "内容无法读取",
}
"""What a 422 `invalid_request` problem's rule (pydantic's error type) means for its field."""


@dataclass(frozen=True)
class Problem:
    """A refusal as a page shows it: the field it concerns (a form input name) and the text."""

    field: str | None
    text: str


def field_label(field: str | None) -> str | None:
    if field is None:
        return None
    return FIELDS.get(field) or FIELDS.get(field.split(".")[0])


def describe(error: ServiceError) -> list[Problem]:
    """The refusal in Chinese, one problem per field (a 422 may name several)."""
    if error.code == "invalid_request":
        problems = error.details.get("problems") or [{"field": error.field, "rule": None}]
        return [
            _problem(p.get("field"), RULES.get(p.get("rule") or "", "填写有误")) for p in problems
        ]
    text = MESSAGES.get(error.code) or f"未受理（{_fallback(error)}）"
    if error.code == "already_registered" and error.details.get("trainee_id"):
        text += f"，学员编号 {error.details['trainee_id']}"
    if error.code == "conditions_not_met" and error.details.get("unmet"):
        text += f"（{unmet(error.details)}）"
    if error.code == "barred_from_applying" and error.details.get("until"):
        text += f"（限制期至 {error.details['until']}）"
    return [_problem(error.field, text)]


def _problem(field: str | None, text: str) -> Problem:
    label = field_label(field)
    return Problem(field, f"{label}：{text}" if label else text)


def _fallback(error: ServiceError) -> str:
    """An unknown code still shows in Chinese with the code to quote to support."""
    return {401: "请重新登录", 403: "无权操作", 404: "未找到", 409: "当前状态不允许"}.get(
        error.status, "填写有误" if error.status == 422 else "服务错误"
    ) + f"，代码 {error.code}"


def as_text(problems: list[Problem]) -> str:
    return "；".join(problem.text for problem in problems)


def by_field(problems: list[Problem]) -> dict[str, list[str]]:
    """Problems keyed by the form input they belong to ('' for those of no field)."""
    keyed: dict[str, list[str]] = {}
    for problem in problems:
        keyed.setdefault(problem.field or "", []).append(problem.text)
    return keyed
