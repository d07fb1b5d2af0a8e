"""Realistic, seeded Hefei-like people and enterprises for the demo and tests."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾萧田董潘袁蔡蒋余于杜叶程魏苏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国志强文辉玉兰婷浩宇子涵梓萱一诺欣怡晨阳思远佳怡雨桐俊杰博文"
HEFEI_DISTRICTS = [
    "340102",
    "340103",
    "340104",
    "340111",
    "340121",
    "340122",
    "340123",
    "340124",
    "340181",
]
STREETS = [
    "长江西路",
    "黄山路",
    "金寨路",
    "芜湖路",
    "望江西路",
    "徽州大道",
    "繁华大道",
    "合作化路",
    "天鹅湖路",
    "习友路",
]
ETHNIC_CODES = ["01"] * 18 + ["02", "03", "05", "08", "11"]  # GB/T 3304, mostly 汉族
ENTERPRISE_WORDS = [
    "徽商",
    "科大",
    "庐州",
    "包河",
    "滨湖",
    "创新",
    "巢湖",
    "江淮",
    "新站",
    "瑶海",
    "高新",
    "数智",
]
ENTERPRISE_KINDS = [
    "科技有限公司",
    "信息技术有限公司",
    "贸易有限公司",
    "建设工程有限公司",
    "餐饮管理有限公司",
    "农业专业合作社",
    "物业服务有限公司",
]


@dataclass(frozen=True)
class Person:
    """One resident as the truth behind every department's copy."""

    resident_id: str
    name: str
    gender: str  # male / female
    birth: dt.date
    ethnicity: str
    division: str
    address: str
    mobile: str | None


def make_person(rng: random.Random, make_resident_id) -> Person:
    """A plausible Hefei resident."""
    birth = dt.date(1940, 1, 1) + dt.timedelta(days=rng.randrange(0, 365 * 65))
    division = rng.choice(HEFEI_DISTRICTS)
    gender = rng.choice(["male", "female"])
    resident_id = make_resident_id(rng, birth, division)
    # GB 11643: the 17th digit is odd for men, even for women; keep the truth consistent.
    digit = int(resident_id[16])
    if (digit % 2 == 1) != (gender == "male"):
        gender = "male" if digit % 2 == 1 else "female"
    name = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice([1, 2])))
    address = f"安徽省合肥市{rng.choice(STREETS)}{rng.randint(1, 999)}号"
    mobile = (
        None if rng.random() < 0.15 else (f"1{rng.choice('3456789')}{rng.randrange(10**9):09d}")
    )
    return Person(
        resident_id, name, gender, birth, rng.choice(ETHNIC_CODES), division, address, mobile
    )


def make_enterprise_name(rng: random.Random) -> str:
    """A plausible Hefei enterprise name."""
    return f"合肥{rng.choice(ENTERPRISE_WORDS)}{rng.choice(ENTERPRISE_WORDS)}{rng.choice(ENTERPRISE_KINDS)}"
