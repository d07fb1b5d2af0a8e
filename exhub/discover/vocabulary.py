"""What legacy column names and code values mean: the dictionary discovery matches with.

Chinese government systems name columns three ways: by the initials of the pinyin of the
Chinese term (SFZH = 身份证号, XM = 姓名, GXSJ = 更新时间), by the element codes of a national
data standard (the human resources and social security standard: AAC002 = 公民身份号码,
AAC003 = 姓名, AAE036 = 经办时间 ...), or in Chinese or English outright. A :class:`Concept`
gathers the spellings of one meaning and says which shared-schema fields it can fill.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from exhub.contracts import FieldSpec


@dataclass(frozen=True)
class Concept:
    """One meaning, its spellings, and the contract fields it can fill.

    Attributes:
        key: short identifier.
        meaning: the Chinese term (shown as the evidence for pinyin initials).
        fields: regular expression a contract field name must fully match, or None.
        semantic: a contract field with this semantic type matches too.
        pii_only: only fields marked ``pii`` match (a person's name, not an item's name).
        pinyin: pinyin-initial spellings (upper case), ``"ZJHM:证件号码"`` when they abbreviate
            another term than ``meaning``.
        hrss: element codes of the HRSS data standard (upper case), with their term.
        chinese: Chinese spellings.
        english: English spellings (lower case, underscores).
        check: name of the ``ColumnProfile`` ratio that tests the values, or None.
        check_label: how the evidence names that test, after the percentage.
        strength: how far the values alone can be trusted (0 = never without a name).
    """

    key: str
    meaning: str
    fields: str | None = None
    semantic: str | None = None
    pii_only: bool = False
    pinyin: tuple[str, ...] = ()
    hrss: tuple[str, ...] = ()
    chinese: tuple[str, ...] = ()
    english: tuple[str, ...] = ()
    check: str | None = None
    check_label: str = ""
    strength: float = 0.0

    def applies_to(self, spec: FieldSpec) -> bool:
        """Whether this concept can fill ``spec``."""
        if self.semantic is not None and spec.semantic is not None:
            return spec.semantic.value == self.semantic
        if self.fields is None or not re.fullmatch(self.fields, spec.name):
            return False
        return spec.pii or not self.pii_only

    def spellings(self) -> list[tuple[str, str, str]]:
        """Every spelling with its kind (pinyin, HRSS code, Chinese, English) and term."""
        found = []
        for kind, spellings in (
            ("pinyin", self.pinyin),
            ("HRSS code", self.hrss),
            ("Chinese", self.chinese),
            ("English", self.english),
        ):
            for spelling in spellings:
                text, _, term = spelling.partition(":")
                found.append((text, kind, term or self.meaning))
        return found


CONCEPTS: tuple[Concept, ...] = (
    Concept(
        "resident_id", "身份证号", semantic="cn_resident_id",
        pinyin=("SFZH", "SFZHM", "ZJHM:证件号码", "GMSFHM:公民身份号码", "SFZ", "SFZJHM",
                "ZJH:证件号", "GMSFZH", "SFHM"),
        hrss=("AAC002:公民身份号码",),
        chinese=("身份证号", "身份证号码", "身份证", "证件号码", "证件号", "公民身份号码",
                 "公民身份证号", "公民身份证号码"),
        english=("id_card", "idcard", "id_card_no", "id_no", "id_number", "idno", "resident_id",
                 "citizen_id", "identity_no", "id_card_number", "cert_no", "identity_card"),
        check="resident_id_ratio", check_label="valid GB 11643", strength=0.9,
    ),
    Concept(
        "uscc", "统一社会信用代码", semantic="cn_uscc",
        pinyin=("TYSHXYDM", "SHXYDM:社会信用代码", "XYDM:信用代码", "TYXYDM", "TYDM:统一代码"),
        chinese=("统一社会信用代码", "社会信用代码", "信用代码"),
        english=("uscc", "credit_code", "social_credit_code", "unified_social_credit_code",
                 "uniscid"),
        check="uscc_ratio", check_label="valid GB 32100", strength=0.9,
    ),
    Concept(
        "mobile", "联系电话", semantic="cn_mobile",
        pinyin=("LXDH", "SJHM:手机号码", "SJH:手机号", "LXFS:联系方式", "DH:电话", "YDDH:移动电话",
                "LXSJ:联系手机"),
        hrss=("AAE005:联系电话",),
        chinese=("联系电话", "手机号码", "手机号", "手机", "电话", "联系方式", "移动电话",
                 "电话号码"),
        english=("phone", "mobile", "mobile_phone", "tel", "telephone", "cellphone", "phone_no",
                 "contact_phone", "mobile_no", "phone_number"),
        check="mobile_ratio", check_label="mobile numbers", strength=0.85,
    ),
    Concept(
        "division", "行政区划代码", semantic="cn_admin_division",
        pinyin=("XZQH:行政区划", "XZQHDM", "QHDM:区划代码", "XZQDM", "QH:区划"),
        hrss=("AAB301:所属行政区划代码",),
        chinese=("行政区划", "行政区划代码", "区划代码", "所属区划", "区划"),
        english=("division", "division_code", "region_code", "area_code", "adcode",
                 "admin_code", "district_code"),
        check="division_ratio", check_label="GB/T 2260 codes", strength=0.8,
    ),
    Concept(
        "person_name", "姓名", fields=r"name|.*_name", pii_only=True,
        pinyin=("XM", "XINGMING"), hrss=("AAC003:姓名",), chinese=("姓名", "名字"),
        english=("name", "full_name", "person_name", "real_name"),
        check="person_name_ratio", check_label="Chinese personal names", strength=0.45,
    ),
    Concept(
        "gender", "性别", fields=r"gender|sex",
        pinyin=("XB", "XINGBIE"), hrss=("AAC004:性别",), chinese=("性别",),
        english=("gender", "sex"),
    ),
    Concept(
        "birth_date", "出生日期", fields=r"birth_date|.*_birth_date",
        pinyin=("CSRQ", "CSNY:出生年月", "CSRIQI"), hrss=("AAC006:出生日期",),
        chinese=("出生日期", "出生年月", "生日", "出生年月日"),
        english=("birthday", "birth_date", "birthdate", "dob", "date_of_birth", "birth"),
    ),
    Concept(
        "ethnicity", "民族", fields=r"ethnicity",
        pinyin=("MZ",), hrss=("AAC005:民族",), chinese=("民族",),
        english=("ethnicity", "nation", "ethnic", "ethnic_group"),
        check="ethnicity_ratio", check_label="GB/T 3304 ethnic groups", strength=0.6,
    ),
    Concept(
        "address", "住址", fields=r"address|.*_address",
        pinyin=("ZZ", "DZ:地址", "JTZZ:家庭住址", "HJDZ:户籍地址", "ZSDZ:住所地址", "JZDZ:居住地址",
                "XZZ:现住址", "JTDZ:家庭地址", "ZCDZ:注册地址", "LXDZ:联系地址"),
        hrss=("AAE006:地址",),
        chinese=("住址", "地址", "家庭住址", "户籍地址", "住所", "居住地址", "现住址", "联系地址",
                 "注册地址", "家庭地址"),
        english=("address", "addr", "home_address", "residential_address"),
        check="address_ratio", check_label="addresses", strength=0.45,
    ),
    Concept(
        "updated_at", "更新时间", fields=r"updated_at",
        pinyin=("GXSJ", "XGSJ:修改时间", "ZHGXSJ:最后更新时间", "CZSJ:操作时间",
                "ZHXGSJ:最后修改时间", "GXRQ:更新日期"),
        hrss=("AAE036:经办时间",),
        chinese=("更新时间", "修改时间", "最后更新时间", "操作时间", "最后修改时间"),
        english=("updated_at", "update_time", "modified_at", "last_modified", "gmt_modified",
                 "last_update", "mtime", "modify_time", "updated_time"),
    ),
    Concept(
        "nationality", "国籍", fields=r"nationality",
        pinyin=("GJ", "GJDQ:国籍地区"), chinese=("国籍", "国籍地区"),
        english=("nationality", "country"),
    ),
    Concept(
        "death_date", "死亡日期", fields=r"death_date",
        pinyin=("SWRQ",), chinese=("死亡日期",), english=("death_date", "date_of_death"),
    ),
    Concept(
        "entity_name", "企业名称", fields=r"entity_name",
        pinyin=("QYMC", "DWMC:单位名称", "JGMC:机构名称", "ZTMC:主体名称", "FRMC:法人名称"),
        hrss=("AAB004:单位名称",),
        chinese=("企业名称", "单位名称", "机构名称", "法人名称", "主体名称", "市场主体名称",
                 "名称"),
        english=("entity_name", "company_name", "org_name", "enterprise_name", "corp_name"),
        check="entity_name_ratio", check_label="organisation names", strength=0.6,
    ),
    Concept(
        "legal_representative", "法定代表人", fields=r"legal_representative",
        pinyin=("FDDBR", "FRDB:法人代表", "FDDBRXM:法定代表人姓名", "FR:法人", "FZR:负责人"),
        hrss=("AAB013:法定代表人姓名",),
        chinese=("法定代表人", "法人代表", "负责人", "法定代表人姓名"),
        english=("legal_representative", "legal_person", "legal_rep"),
    ),
    Concept(
        "registered_capital", "注册资本", fields=r"registered_capital",
        pinyin=("ZCZB", "ZCZJ:注册资金", "ZCZE:注册总额"), chinese=("注册资本", "注册资金"),
        english=("registered_capital", "reg_capital", "capital"),
    ),
    Concept(
        "established_on", "成立日期", fields=r"established_on",
        pinyin=("CLRQ", "KYRQ:开业日期", "ZCRQ:注册日期"),
        chinese=("成立日期", "开业日期", "注册日期"),
        english=("established_on", "establish_date", "found_date", "founded_on"),
    ),
    Concept(
        "entity_type", "企业类型", fields=r"entity_type",
        pinyin=("QYLX", "ZTLX:主体类型", "QYLXDM:企业类型代码", "SCZTLX:市场主体类型"),
        chinese=("企业类型", "市场主体类型", "主体类型", "企业类型代码"),
        english=("entity_type", "enterprise_type", "company_type"),
    ),
    Concept(
        "status", "状态", fields=r"status",
        pinyin=("DJZT:登记状态", "ZT", "JYZT:经营状态", "QYZT:企业状态", "BJZT:办件状态",
                "ZZZT:证照状态"),
        chinese=("登记状态", "状态", "经营状态", "办件状态", "证照状态"),
        english=("status", "state"),
    ),
    Concept(
        "case_number", "办件编号", fields=r"case_number",
        pinyin=("BJBH", "SLBH:受理编号", "YWLSH:业务流水号", "BJH:办件号"),
        chinese=("办件编号", "受理编号", "办件号", "业务流水号"),
        english=("case_number", "case_no", "case_id"),
    ),
    Concept(
        "item_code", "事项编码", fields=r"item_code",
        pinyin=("SXBM", "SSBM:实施编码", "SXSSBM:事项实施编码"),
        chinese=("事项编码", "实施编码", "事项实施编码"),
        english=("item_code",),
    ),
    Concept(
        "item_name", "事项名称", fields=r"item_name",
        pinyin=("SXMC",), chinese=("事项名称",), english=("item_name",),
    ),
    Concept(
        "accepted_at", "受理时间", fields=r"accepted_at",
        pinyin=("SLSJ",), chinese=("受理时间",), english=("accepted_at", "accept_time"),
    ),
    Concept(
        "completed_at", "办结时间", fields=r"completed_at",
        pinyin=("BJSJ",), chinese=("办结时间",), english=("completed_at", "finish_time"),
    ),
    Concept(
        "submitted_at", "申请时间", fields=r"submitted_at",
        pinyin=("SQSJ",), chinese=("申请时间",), english=("submitted_at", "apply_time"),
    ),
    Concept(
        "channel", "申办渠道", fields=r"channel",
        pinyin=("SBQD", "QD:渠道"), chinese=("申办渠道", "渠道", "办理渠道"), english=("channel",),
    ),
    Concept(
        "issued_on", "发证日期", fields=r"issued_on",
        pinyin=("FZRQ",), chinese=("发证日期", "颁发日期", "签发日期"),
        english=("issued_on", "issue_date"),
    ),
)  # fmt: skip

QUALIFIERS: dict[str, tuple[str, ...]] = {
    "applicant": ("SQR", "申请人", "applicant"),
    "department": ("CBBM", "BM", "承办部门", "部门", "department", "dept"),
    "holder": ("CZR", "持证人", "持有人", "holder"),
    "evaluator": ("PJR", "评价人", "evaluator"),
    "issuing_department": ("FZJG", "发证机关", "颁发机关", "issuer"),
}
"""Prefixes that say whose value a column holds (申请人身份证号 → applicant_resident_id)."""

# Labels → canonical values; the first candidate the target field allows is taken.
LABELS: dict[str, tuple[str, ...]] = {
    "男": ("male",), "女": ("female",), "男性": ("male",), "女性": ("female",),
    "m": ("male",), "f": ("female",), "male": ("male",), "female": ("female",),
    "未知": ("unknown",), "未说明": ("unknown",), "未知的性别": ("unknown",),
    "未说明的性别": ("unknown",), "u": ("unknown",),
    "存续": ("active",), "在业": ("active",), "开业": ("active",), "正常": ("active", "valid"),
    "登记成立": ("active",), "吊销": ("revoked",), "已吊销": ("revoked",),
    "吊销未注销": ("revoked",), "注销": ("cancelled",), "已注销": ("cancelled",),
    "迁出": ("moved_out",), "已迁出": ("moved_out",), "撤销": ("revoked",),
    "有效": ("valid",), "过期": ("expired",), "已过期": ("expired",), "暂停": ("suspended",),
    "有限责任公司": ("company",), "股份有限公司": ("company",), "公司": ("company",),
    "个体工商户": ("individual_business",), "个体": ("individual_business",),
    "农民专业合作社": ("farmer_cooperative",), "专业合作社": ("farmer_cooperative",),
    "分公司": ("branch",), "分支机构": ("branch",), "事业单位": ("public_institution",),
    "社会团体": ("social_organization",), "社会组织": ("social_organization",),
    "民办非企业单位": ("social_organization",), "基金会": ("social_organization",),
    "已受理": ("accepted",), "受理": ("accepted",), "办理中": ("in_progress",),
    "在办": ("in_progress",), "挂起": ("suspended",), "特别程序": ("suspended",),
    "已办结": ("completed",), "办结": ("completed",), "撤回": ("withdrawn",),
    "申请人撤回": ("withdrawn",), "终止": ("terminated",), "终止办理": ("terminated",),
    "准予": ("approved",), "予以许可": ("approved",), "不予准予": ("denied",),
    "不予许可": ("denied",), "不予": ("denied",), "转报": ("forwarded",), "上报": ("forwarded",),
    "网上": ("online",), "网办": ("online",), "政务服务网": ("online",), "窗口": ("window",),
    "移动端": ("app",), "app": ("app",), "皖事通": ("app",), "自助终端": ("self_service",),
    "自助": ("self_service",), "短信": ("sms",), "热线": ("hotline",), "12345": ("hotline",),
    "自然人": ("person",), "个人": ("person",), "法人": ("legal_entity",),
    "企业": ("legal_entity",), "单位": ("legal_entity",),
}  # fmt: skip

FIELD_CODES: dict[str, dict[str, str]] = {
    # GB/T 2261.1-2003: 0 未知的性别, 1 男性, 2 女性, 9 未说明的性别.
    "gender": {"0": "unknown", "1": "male", "2": "female", "9": "unknown"},
}
"""Numeric code sets of national standards, per contract field name."""

CODE_STANDARDS: dict[str, str] = {"gender": "GB/T 2261.1 codes"}

DELETION_FLAGS: dict[str, str] = {
    "SCBZ": "删除标志", "SFSC": "是否删除", "YXBZ": "有效标志", "ZFBZ": "作废标志",
    "删除标志": "删除标志", "是否删除": "是否删除", "有效标志": "有效标志", "作废标志": "作废标志",
    "DEL_FLAG": "删除标志", "IS_DELETED": "是否删除", "DELETED": "是否删除",
    "DELETE_FLAG": "删除标志", "IS_VALID": "有效标志",
}  # fmt: skip
"""Column names of logical-deletion flags (逻辑删除): rows flagged so are gone in the source."""


def label_value(field: str, raw: str, allowed: list[str]) -> str | None:
    """The canonical value a legacy code or label stands for in ``field``, if known.

    Args:
        field: the contract field name.
        raw: the legacy value (normalized text).
        allowed: the field's ``values``.

    Returns:
        A member of ``allowed``, or None when the value is not recognized.
    """
    lowered = raw.strip().lower()
    if lowered in allowed:
        return lowered
    code = FIELD_CODES.get(field, {}).get(lowered)
    if code in allowed:
        return code
    if field == "entity_type" and re.fullmatch(r"1\d{3}", lowered):
        return "company"  # market-entity type codes 1xxx are companies (公司)
    if field == "entity_type" and lowered == "9100":
        return "farmer_cooperative"  # 9100 农民专业合作社
    return next((c for c in LABELS.get(lowered, ()) if c in allowed), None)


def qualifier_of(prefix: str) -> str | None:
    """The qualifier a column-name prefix names (``SQR`` → ``applicant``), if any."""
    cleaned = prefix.strip("_- ").lower()
    if not cleaned:
        return None
    for qualifier, spellings in QUALIFIERS.items():
        if any(cleaned == s.lower() or cleaned.endswith(s.lower()) for s in spellings):
            return qualifier
    return None
