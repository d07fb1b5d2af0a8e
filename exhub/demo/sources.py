"""Source-system files of the demo world (written next to the legacy systems it generates)."""

PS_HUKOU = """\
# 合肥市公安局 人口户籍管理系统: an old Oracle-era schema with pinyin-initial column names.
id: ps_hukou
department: {{id: public_security, name: 合肥市公安局}}
system: 人口户籍管理系统
connector: sql
options:
  url: sqlite:///{legacy}/hukou.db
schedule: "@daily"
max_connections: 2
streams:
  - name: residents
    source: T_RK_JBXX
    target: person@1
    cursor: GXSJ
    mapping:
      resident_id: SFZH          # 身份证号
      name: XM                   # 姓名
      gender:                    # 性别, GB/T 2261.1 codes
        from: XB
        map: {{"1": male, "2": female, "0": unknown, "9": unknown}}
        map_unmapped: reject
      birth_date: {{from: CSRQ, date_formats: ["%Y%m%d"]}}
      ethnicity: MZ
      household_division: HJDZ_XZQH
      address: ZZ
      mobile: LXDH
      updated_at: GXSJ
"""

RS_SOCIAL_INSURANCE = """\
# 合肥市人力资源和社会保障局 社会保险系统: column names from the national HRSS data standard.
id: rs_social_insurance
department: {{id: human_resources, name: 合肥市人力资源和社会保障局}}
system: 社会保险信息系统
connector: sql
options:
  url: sqlite:///{legacy}/social_insurance.db
schedule: "0 2 * * *"
max_connections: 1
streams:
  - name: insured_persons
    source: SI_CBRY
    target: person@1
    cursor: AAE036
    mapping:
      resident_id: AAC002
      name: AAC003
      gender:
        from: AAC004
        map: {{"1": male, "2": female}}
        map_unmapped: reject
      birth_date: AAC006
      mobile: AAE005
      household_division: AAB301
      updated_at: AAE036
"""

MZ_MARRIAGE = """\
# 合肥市民政局 婚姻登记系统: a nightly GBK CSV export dropped in a folder.
id: mz_marriage
department: {{id: civil_affairs, name: 合肥市民政局}}
system: 婚姻登记管理系统（导出文件）
connector: csv
options:
  path: {legacy}/marriage_exports
  encoding: gbk
schedule: "30 1 * * *"
max_connections: 1
streams:
  - name: registrants
    source: "HYDJ_*.csv"
    target: person@1
    mapping:
      resident_id: 证件号码
      name: 姓名
      gender:
        from: 性别
        map: {{男: male, 女: female}}
        map_unmapped: reject
      birth_date: 出生日期
      mobile: 联系电话
      household_division: 登记机关代码
"""

SJ_ENTERPRISE = """\
# 合肥市市场监督管理局 企业登记系统.
id: sj_enterprise
department: {{id: market_regulation, name: 合肥市市场监督管理局}}
system: 企业登记注册系统
connector: sql
options:
  url: sqlite:///{legacy}/enterprise.db
schedule: "@daily"
max_connections: 2
streams:
  - name: enterprises
    source: QY_DJXX
    target: legal_entity@1
    cursor: GXSJ
    mapping:
      uscc: TYSHXYDM
      entity_name: QYMC
      entity_type:
        from: QYLX
        map: {{"1100": company, "1200": company, "4000": individual_business, "9100": farmer_cooperative}}
        map_unmapped: reject
      legal_representative: FDDBR
      registered_capital: ZCZB
      established_on: CLRQ
      division: ZSXZQH
      status:
        from: DJZT
        map: {{存续: active, 在业: active, 吊销: revoked, 注销: cancelled, 迁出: moved_out}}
        map_unmapped: reject
      updated_at: GXSJ
"""

SOURCE_FILES = {
    "ps_hukou": PS_HUKOU,
    "rs_social_insurance": RS_SOCIAL_INSURANCE,
    "mz_marriage": MZ_MARRIAGE,
    "sj_enterprise": SJ_ENTERPRISE,
}
