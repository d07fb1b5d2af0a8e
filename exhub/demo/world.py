"""A small Hefei-like world of legacy systems, with the dirt real ones have.

Four systems of four departments: public security's household register and human
resources' social insurance (SQLite with pinyin / standard-code column names), civil
affairs' marriage registry (a nightly GBK CSV export), and market regulation's enterprise
register. Every dirty row carries exactly one planted defect, counted per rule id, so the
demo can show that quarantine holds exactly what was planted.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import random
import sqlite3
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from exhub.demo.people import HEFEI_DISTRICTS, Person, make_enterprise_name, make_person
from exhub.demo.sources import SOURCE_FILES
from exhub.semantic import corrupt_one_char, make_resident_id, make_uscc


@dataclass
class World:
    """Where the world was written and what dirt it holds."""

    root: Path
    sources_dir: Path
    planted: dict[str, Counter] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)

    def save(self) -> None:
        """Record the planted dirt next to the systems (tests and the demo compare)."""
        data = {"planted": {k: dict(v) for k, v in self.planted.items()}, "rows": self.rows}
        (self.root / "planted.json").write_text(json.dumps(data, indent=1, ensure_ascii=False))


def _plan(rng: random.Random, total: int, defects: dict[str, int]) -> list[str | None]:
    plan: list[str | None] = [None] * total
    slots = rng.sample(range(total), sum(defects.values()))
    cursor = 0
    for rule, count in defects.items():
        for index in slots[cursor : cursor + count]:
            plan[index] = rule
        cursor += count
    return plan


def _stamp(rng: random.Random) -> str:
    moment = dt.datetime(2024, 1, 1) + dt.timedelta(seconds=rng.randrange(0, 3600 * 24 * 600))
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def _sqlite(path: Path, ddl: str, table: str, rows: list[tuple]) -> None:
    path.unlink(missing_ok=True)
    with sqlite3.connect(path) as con:
        con.execute(ddl)
        marks = ",".join("?" * len(rows[0]))
        con.executemany(f"INSERT INTO {table} VALUES ({marks})", rows)
    con.close()


def _household_register(rng, people: list[Person], folder: Path, world: World) -> None:
    defects = {
        "resident_id.cn_resident_id": 40,
        "birth_date.type": 10,
        "gender.map": 8,
        "household_division.cn_admin_division": 6,
        "name.required": 5,
    }
    plan = _plan(rng, len(people), defects)
    rows = []
    for person, defect in zip(people, plan, strict=True):
        sfzh, xm = person.resident_id, person.name
        xb = "1" if person.gender == "male" else "2"
        csrq, xzqh = person.birth.strftime("%Y%m%d"), person.division
        if defect == "resident_id.cn_resident_id":
            sfzh = corrupt_one_char(rng, sfzh)
        elif defect == "birth_date.type":
            csrq = f"{person.birth.year}0230"
        elif defect == "gender.map":
            xb = "X"
        elif defect == "household_division.cn_admin_division":
            xzqh = "349999"
        elif defect == "name.required":
            xm = "  "
        rows.append(
            (sfzh, xm, xb, csrq, person.ethnicity, xzqh, person.address, person.mobile, _stamp(rng))
        )
    _sqlite(
        folder / "hukou.db",
        "CREATE TABLE T_RK_JBXX (SFZH TEXT PRIMARY KEY, XM TEXT, XB TEXT, CSRQ TEXT, MZ TEXT, "
        "HJDZ_XZQH TEXT, ZZ TEXT, LXDH TEXT, GXSJ TEXT)",
        "T_RK_JBXX",
        rows,
    )
    world.planted["ps_hukou"] = Counter(defects)
    world.rows["ps_hukou"] = len(rows)


def _social_insurance(rng, people: list[Person], folder: Path, world: World) -> None:
    defects = {"resident_id.cn_resident_id": 20, "mobile.cn_mobile": 10, "birth_date.range": 4}
    plan = _plan(rng, len(people), defects)
    rows = []
    for person, defect in zip(people, plan, strict=True):
        aac002, mobile = person.resident_id, person.mobile or f"139{rng.randrange(10**8):08d}"
        birth = person.birth.isoformat()
        if defect == "resident_id.cn_resident_id":
            aac002 = corrupt_one_char(rng, aac002)
        elif defect == "mobile.cn_mobile":
            mobile = f"0551-{rng.randrange(10**7):07d}"
        elif defect == "birth_date.range":
            birth = "1899-12-31"
        rows.append(
            (
                aac002,
                person.name,
                "1" if person.gender == "male" else "2",
                birth,
                mobile,
                person.division,
                _stamp(rng),
            )
        )
    _sqlite(
        folder / "social_insurance.db",
        "CREATE TABLE SI_CBRY (AAC002 TEXT PRIMARY KEY, AAC003 TEXT, AAC004 TEXT, AAC006 DATE, "
        "AAE005 TEXT, AAB301 TEXT, AAE036 TEXT)",
        "SI_CBRY",
        rows,
    )
    world.planted["rs_social_insurance"] = Counter(defects)
    world.rows["rs_social_insurance"] = len(rows)


def _legacy_date(rng: random.Random, day: dt.date) -> str:
    style = rng.randrange(4)
    if style == 0:
        return f"{day.year}年{day.month}月{day.day}日"
    if style == 1:
        return f"{day.year}/{day.month}/{day.day}"
    if style == 2:
        return day.strftime("%Y%m%d")
    return day.isoformat()


def _legacy_id(rng: random.Random, resident_id: str) -> str:
    style = rng.randrange(10)
    if style == 0 and resident_id[6:8] == "19":
        return resident_id[:6] + resident_id[8:17]  # a 15-digit first-generation card
    if style == 1:
        return resident_id.translate(str.maketrans("0123456789X", "０１２３４５６７８９Ｘ"))
    if style == 2:
        return resident_id.lower() + " "
    return resident_id


def _marriage_export(rng, people: list[Person], folder: Path, world: World) -> None:
    defects = {
        "resident_id.cn_resident_id": 15,
        "birth_date.type": 8,
        "mobile.cn_mobile": 7,
        "source.unparseable": 3,
    }
    plan = _plan(rng, len(people), defects)
    buffer = io.BytesIO()
    header = ["证件号码", "姓名", "性别", "出生日期", "联系电话", "登记机关代码", "登记日期"]
    buffer.write((",".join(header) + "\r\n").encode("gbk"))
    for person, defect in zip(people, plan, strict=True):
        zjhm = _legacy_id(rng, person.resident_id)
        mobile = person.mobile and rng.choice(
            [person.mobile, f"+86 {person.mobile[:3]}-{person.mobile[3:7]}-{person.mobile[7:]}"]
        )
        birth = _legacy_date(rng, person.birth)
        if defect == "resident_id.cn_resident_id":
            zjhm = corrupt_one_char(rng, person.resident_id)
        elif defect == "birth_date.type":
            birth = "0000-00-00"
        elif defect == "mobile.cn_mobile":
            mobile = "12345"
        registered = dt.date(2000, 1, 1) + dt.timedelta(days=rng.randrange(0, 9000))
        line = io.StringIO()
        csv.writer(line, lineterminator="\r\n").writerow(
            [
                zjhm,
                person.name,
                "男" if person.gender == "male" else "女",
                birth,
                mobile or "",
                rng.choice(HEFEI_DISTRICTS),
                _legacy_date(rng, registered),
            ]
        )
        encoded = line.getvalue().encode("gbk")
        if defect == "source.unparseable":
            # A byte the old export tool mangled: 0x81 0x20 is not a GBK character.
            encoded = encoded.replace(person.name[0].encode("gbk"), b"\x81\x20", 1)
        buffer.write(encoded)
    exports = folder / "marriage_exports"
    exports.mkdir(exist_ok=True)
    (exports / "HYDJ_20261125.csv").write_bytes(buffer.getvalue())
    world.planted["mz_marriage"] = Counter(defects)
    world.rows["mz_marriage"] = len(people)


ENTERPRISE_TYPES = {
    "1100": "company",
    "1200": "company",
    "4000": "individual_business",
    "9100": "farmer_cooperative",
}
REGISTRATION_STATES = {
    "存续": "active",
    "在业": "active",
    "吊销": "revoked",
    "注销": "cancelled",
    "迁出": "moved_out",
}


def _enterprise_register(rng, count: int, people: list[Person], folder: Path, world: World):
    defects = {
        "uscc.cn_uscc": 12,
        "registered_capital.range": 5,
        "status.map": 4,
        "established_on.type": 3,
    }
    plan = _plan(rng, count, defects)
    rows, seen = [], set()
    for defect in plan:
        uscc = make_uscc(rng, rng.choice(HEFEI_DISTRICTS))
        while uscc in seen:
            uscc = make_uscc(rng, rng.choice(HEFEI_DISTRICTS))
        seen.add(uscc)
        capital = f"{rng.randrange(10, 500000) / 10:.2f}"
        established = dt.date(1995, 1, 1) + dt.timedelta(days=rng.randrange(0, 10000))
        clrq, status = established.strftime("%Y-%m-%d"), rng.choice(list(REGISTRATION_STATES))
        if defect == "uscc.cn_uscc":
            uscc = corrupt_one_char(rng, uscc)
        elif defect == "registered_capital.range":
            capital = f"-{capital}"
        elif defect == "status.map":
            status = "待核"
        elif defect == "established_on.type":
            clrq = "2019-13-45"
        rows.append(
            (
                uscc,
                make_enterprise_name(rng),
                rng.choice(list(ENTERPRISE_TYPES)),
                rng.choice(people).name,
                capital,
                clrq,
                rng.choice(HEFEI_DISTRICTS),
                status,
                _stamp(rng),
            )
        )
    _sqlite(
        folder / "enterprise.db",
        "CREATE TABLE QY_DJXX (TYSHXYDM TEXT PRIMARY KEY, QYMC TEXT, QYLX TEXT, FDDBR TEXT, "
        "ZCZB TEXT, CLRQ TEXT, ZSXZQH TEXT, DJZT TEXT, GXSJ TEXT)",
        "QY_DJXX",
        rows,
    )
    world.planted["sj_enterprise"] = Counter(defects)
    world.rows["sj_enterprise"] = len(rows)


def build_world(root: Path, *, seed: int = 20261126, scale: float = 1.0) -> World:
    """Write the legacy systems and their source files under ``root``; deterministic."""
    rng = random.Random(seed)
    legacy = root / "legacy"
    sources_dir = root / "sources"
    legacy.mkdir(parents=True, exist_ok=True)
    sources_dir.mkdir(parents=True, exist_ok=True)
    world = World(root=root, sources_dir=sources_dir)
    population: dict[str, Person] = {}
    while len(population) < int(6000 * scale):
        person = make_person(rng, make_resident_id)
        population[person.resident_id] = person
    people = list(population.values())
    _household_register(rng, people[: int(4000 * scale)], legacy, world)
    _social_insurance(rng, people[int(1500 * scale) : int(4000 * scale)], legacy, world)
    _marriage_export(rng, people[int(3000 * scale) : int(4500 * scale)], legacy, world)
    _enterprise_register(rng, int(1200 * scale), people, legacy, world)
    for name, template in SOURCE_FILES.items():
        (sources_dir / f"{name}.yaml").write_text(
            template.format(legacy=legacy.resolve()), encoding="utf-8"
        )
    world.save()
    return world
