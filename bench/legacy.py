"""The legacy system under test: a PostgreSQL household register (人口基础信息表) of N rows.

Fifteen columns of the types such systems use (varchar codes, ``numeric(12,2)``, dates,
timestamps, an update-time cursor ``gxsj`` with an index), with about 1% dirty rows, each
carrying exactly one planted defect counted per exhub rule id. Rows are generated with numpy
and Arrow (no per-row Python) and loaded with ``COPY``; resident IDs are unique because row
``i`` maps to (division, birth day, sequence) through a bijection of that index space, and
their GB 11643 check characters are computed exactly as ``exhub.semantic`` verifies them.

The table keeps a comment naming its generator version, seed and size: a later run with the
same parameters reuses it instead of loading it again. The incremental rounds change rows in
place; they back the originals up first and :func:`restore` puts them back.
"""

from __future__ import annotations

import datetime as dt
import queue
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass

import numpy as np
import psycopg2
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from bench import config
from exhub.demo.people import ETHNIC_CODES, GIVEN, HEFEI_DISTRICTS, STREETS, SURNAMES

GENERATOR_VERSION = 1
DEFAULT_SEED = 20261126
CHUNK_ROWS = 250_000
DIRTY_SHARE = 0.01
CHECK_CHARS = np.array(list("10X98765432"))
WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2], dtype=np.int64)
BIRTH_START = dt.date(1940, 1, 1)
BIRTH_DAYS = 365 * 65
ID_SPACE = len(HEFEI_DISTRICTS) * BIRTH_DAYS * 1000
ID_MULTIPLIER = 2_654_435_761  # a prime above ID_SPACE: i -> (a*i + b) mod M is a bijection
ID_OFFSET = 12_345_677
UPDATE_START = np.datetime64("2021-01-01T00:00:00", "s")
UPDATE_SPAN_S = 5 * 365 * 86_400
# Each dirty row fails exactly one rule; the keys are exhub's rule ids.
DEFECTS = (
    "resident_id.cn_resident_id",
    "name.required",
    "gender.map",
    "birth_date.range",
    "household_division.cn_admin_division",
    "mobile.cn_mobile",
    "pension_balance.range",
    "marital_status.map",
)

COLUMNS = """
    sfzh      varchar(18) NOT NULL,  -- 公民身份号码
    xm        varchar(50),           -- 姓名
    xb        varchar(2),            -- 性别代码 GB/T 2261.1
    csrq      date,                  -- 出生日期
    mz        varchar(2),            -- 民族代码 GB/T 3304
    hjdz_xzqh varchar(6),            -- 户籍地行政区划代码
    zz        varchar(200),          -- 住址
    lxdh      varchar(20),           -- 联系电话
    hyzk      varchar(2),            -- 婚姻状况代码 GB/T 2261.2
    whcd      varchar(2),            -- 学历代码 GB/T 4658
    yljzhye   numeric(12,2),         -- 养老保险个人账户余额
    djrq      date,                  -- 户籍登记日期
    hkzt      varchar(1),            -- 户口状态 1 正常 2 注销 3 迁出
    cjsj      timestamp,             -- 创建时间
    gxsj      timestamp NOT NULL     -- 更新时间 (the incremental cursor)
"""
COLUMN_NAMES = [line.split()[0] for line in COLUMNS.strip().splitlines()]

MARITAL_CODES = np.array(["10", "20", "20", "20", "21", "22", "30", "40", "90"])
EDUCATION_CODES = np.array(["10", "20", "20", "30", "30", "60", "60", "70", "70", "80", "90"])


@dataclass(frozen=True)
class LegacyTable:
    """What the generator left in the database."""

    table: str
    rows: int
    planted: dict[str, int]
    seconds: float
    reused: bool


def connect(database: str = config.PG_DATABASE):
    """A psycopg2 connection in autocommit mode."""
    con = psycopg2.connect(config.dsn(database))
    con.autocommit = True
    return con


def ensure_database() -> None:
    """Create the suite's own database when it does not exist."""
    with closing(connect("postgres")) as con, con.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (config.PG_DATABASE,))
        if cur.fetchone() is None:
            cur.execute(f'CREATE DATABASE "{config.PG_DATABASE}"')


def _marker(rows: int, seed: int) -> str:
    return f"exhub-bench v{GENERATOR_VERSION} rows={rows} seed={seed} pristine"


def _comment(cur, table: str) -> str | None:
    cur.execute("SELECT obj_description(to_regclass(%s), 'pg_class')", (table,))
    row = cur.fetchone()
    return row[0] if row else None


def planted_counts(rows: int, seed: int) -> dict[str, int]:
    """Dirty rows per rule id that ``generate(rows, seed)`` plants (without generating)."""
    counts: Counter[str] = Counter()
    for start in range(0, rows, CHUNK_ROWS):
        count = min(CHUNK_ROWS, rows - start)
        dirty = _dirty_plan(np.random.default_rng([seed, start]), count)
        counts.update(DEFECTS[d] for d in dirty.values())
    return dict(sorted(counts.items()))


def _dirty_plan(rng: np.random.Generator, count: int) -> dict[int, int]:
    dirty = rng.choice(count, size=round(count * DIRTY_SHARE), replace=False)
    return {int(row): index % len(DEFECTS) for index, row in enumerate(np.sort(dirty))}


def _resident_ids(indices: np.ndarray) -> tuple[pa.Array, np.ndarray, np.ndarray, np.ndarray]:
    """Unique valid IDs for row indices, with each row's birth day, division and sequence."""
    code = (indices.astype(np.int64) * ID_MULTIPLIER + ID_OFFSET) % ID_SPACE
    sequence = code % 1000
    day = (code // 1000) % BIRTH_DAYS
    division_index = code // 1000 // BIRTH_DAYS
    birth = np.datetime64(BIRTH_START, "D") + day
    years = birth.astype("datetime64[Y]").astype(np.int64) + 1970
    months = birth.astype("datetime64[M]").astype(np.int64) % 12 + 1
    days = (birth - birth.astype("datetime64[M]")).astype(np.int64) + 1
    divisions = np.array([int(d) for d in HEFEI_DISTRICTS], dtype=np.int64)[division_index]
    body = divisions * 10**11 + (years * 10_000 + months * 100 + days) * 1000 + sequence
    digits = (body[:, None] // 10 ** np.arange(16, -1, -1, dtype=np.int64)) % 10
    check = CHECK_CHARS[(digits * WEIGHTS).sum(axis=1) % 11]
    ids = pc.binary_join_element_wise(pa.array(body).cast(pa.string()), pa.array(check), "")
    return ids, birth, division_index, sequence


def _pick(rng: np.random.Generator, choices: np.ndarray | list, count: int) -> np.ndarray:
    return np.asarray(choices)[rng.integers(0, len(choices), count)]


def generate_chunk(start: int, count: int, seed: int) -> tuple[pa.Table, Counter[str]]:
    """Rows ``start .. start+count`` of the register (deterministic for a seed)."""
    rng = np.random.default_rng([seed, start])
    dirty = _dirty_plan(rng, count)
    indices = np.arange(start, start + count)
    ids, birth, division_index, sequence = _resident_ids(indices)
    divisions = np.array(HEFEI_DISTRICTS)[division_index]
    gender = np.where(sequence % 2 == 1, "1", "2")
    surname = _pick(rng, list(SURNAMES), count)
    given = _pick(rng, list(GIVEN), count)
    second = np.where(rng.random(count) < 0.6, _pick(rng, list(GIVEN), count), "")
    names = np.char.add(np.char.add(surname, given), second)
    street_no = rng.integers(1, 1000, count).astype(str)
    address = np.char.add(
        np.char.add("安徽省合肥市", _pick(rng, STREETS, count)), np.char.add(street_no, "号")
    )
    mobile = np.char.add(
        np.char.add("1", _pick(rng, list("3456789"), count)),
        np.char.zfill(rng.integers(0, 10**9, count).astype(str), 9),
    ).astype(object)
    mobile[rng.random(count) < 0.15] = None
    balance = np.round(rng.gamma(2.0, 20_000.0, count), 2)
    balance_null = rng.random(count) < 0.12
    birth_years = birth.astype("datetime64[Y]").astype(np.int64) + 1970
    registered = birth + rng.integers(0, 365 * 3, count)
    created = np.datetime64("2005-01-01T00:00:00", "s") + rng.integers(0, 15 * 365 * 86_400, count)
    updated = UPDATE_START + rng.integers(0, UPDATE_SPAN_S, count)
    status = _pick(rng, ["1"] * 95 + ["2"] * 3 + ["3"] * 2, count)
    marital = np.where(birth_years > 2003, "10", _pick(rng, MARITAL_CODES, count)).astype(object)

    ids_list = None
    xm, xb, csrq = names.astype(object), gender.astype(object), birth.astype(object)
    division_col, lxdh = divisions.astype(object), mobile
    balance_obj = balance.astype(object)
    balance_obj[balance_null] = None
    planted: Counter[str] = Counter()
    for row, defect_index in dirty.items():
        defect = DEFECTS[defect_index]
        planted[defect] += 1
        if defect == "resident_id.cn_resident_id":
            if ids_list is None:
                ids_list = ids.to_pylist()
            good = ids_list[row]
            wrong = CHECK_CHARS[(int(np.where(good[-1] == CHECK_CHARS)[0][0]) + 3) % 11]
            ids_list[row] = good[:-1] + wrong
        elif defect == "name.required":
            xm[row] = "  "
        elif defect == "gender.map":
            xb[row] = "X"
        elif defect == "birth_date.range":
            csrq[row] = dt.date(1899, 12, 31)
        elif defect == "household_division.cn_admin_division":
            division_col[row] = "349999"
        elif defect == "mobile.cn_mobile":
            lxdh[row] = f"0551-{6_000_000 + row % 1_000_000:07d}"
        elif defect == "pension_balance.range":
            balance_obj[row] = -round(float(balance[row]) + 1.0, 2)
        elif defect == "marital_status.map":
            marital[row] = "99"
    from decimal import Decimal

    table = pa.table(
        {
            "sfzh": pa.array(ids_list, pa.string()) if ids_list is not None else ids,
            "xm": pa.array(xm, pa.string()),
            "xb": pa.array(xb, pa.string()),
            "csrq": pa.array(csrq, pa.date32()),
            "mz": pa.array(_pick(rng, ETHNIC_CODES, count), pa.string()),
            "hjdz_xzqh": pa.array(division_col, pa.string()),
            "zz": pa.array(address, pa.string()),
            "lxdh": pa.array(lxdh, pa.string()),
            "hyzk": pa.array(marital, pa.string()),
            "whcd": pa.array(_pick(rng, EDUCATION_CODES, count), pa.string()),
            "yljzhye": pa.array(
                [None if v is None else Decimal(f"{v:.2f}") for v in balance_obj],
                pa.decimal128(12, 2),
            ),
            "djrq": pa.array(registered, pa.date32()),
            "hkzt": pa.array(status, pa.string()),
            "cjsj": pa.array(created, pa.timestamp("s")),
            "gxsj": pa.array(updated, pa.timestamp("s")),
        }
    )
    return table, planted


def _csv_chunks(rows: int, seed: int, planted: Counter[str]) -> Iterator[bytes]:
    """CSV bytes of each chunk, produced on a second thread while the previous one loads."""
    chunks: queue.Queue = queue.Queue(maxsize=2)

    def produce() -> None:
        try:
            for start in range(0, rows, CHUNK_ROWS):
                table, counts = generate_chunk(start, min(CHUNK_ROWS, rows - start), seed)
                planted.update(counts)
                sink = pa.BufferOutputStream()
                pacsv.write_csv(table, sink, pacsv.WriteOptions(include_header=False))
                chunks.put(sink.getvalue().to_pybytes())
            chunks.put(None)
        except BaseException as exc:  # handed to the consumer, which re-raises
            chunks.put(exc)

    threading.Thread(target=produce, daemon=True).start()
    while (item := chunks.get()) is not None:
        if isinstance(item, BaseException):
            raise item
        yield item


class _BytesReader:
    """File-like view of one bytes object for ``copy_expert``."""

    def __init__(self, data: bytes) -> None:
        self.data, self.offset = data, 0

    def read(self, size: int = -1) -> bytes:
        end = len(self.data) if size < 0 else self.offset + size
        piece = self.data[self.offset : end]
        self.offset += len(piece)
        return piece

    readline = read


def _finish_table(cur, table: str) -> None:
    cur.execute(f"ALTER TABLE {table} ADD PRIMARY KEY (sfzh)")
    cur.execute(f"CREATE INDEX {table}_gxsj ON {table} (gxsj)")
    cur.execute(f"VACUUM (FREEZE, ANALYZE) {table}")


def generate(rows: int, seed: int = DEFAULT_SEED, *, force: bool = False, log=print) -> LegacyTable:
    """Create (or reuse) the N-row legacy table and the smaller one of the scaling point.

    Args:
        rows: rows of the main table.
        seed: generator seed.
        force: load again even when a pristine table of the same size and seed exists.
        log: where progress lines go.

    Returns:
        LegacyTable: the table, its planted dirt and how long loading took.
    """
    ensure_database()
    started = time.perf_counter()
    marker = _marker(rows, seed)
    with closing(connect()) as con, con.cursor() as cur:
        if not force and _comment(cur, config.TABLE) == marker:
            log(f"reusing {config.TABLE} ({rows:,} rows, seed {seed})")
            return LegacyTable(config.TABLE, rows, planted_counts(rows, seed), 0.0, True)
        cur.execute(
            f"DROP TABLE IF EXISTS {config.TABLE}, {config.BACKUP_TABLE}, {config.INSERTED_TABLE}"
        )
        cur.execute(f"CREATE TABLE {config.TABLE} ({COLUMNS})")
        planted: Counter[str] = Counter()
        loaded = 0
        for data in _csv_chunks(rows, seed, planted):
            cur.copy_expert(
                f"COPY {config.TABLE} ({', '.join(COLUMN_NAMES)}) FROM STDIN WITH (FORMAT csv)",
                _BytesReader(data),
            )
            loaded = min(rows, loaded + CHUNK_ROWS)
            log(f"  loaded {loaded:,} / {rows:,} rows")
        _finish_table(cur, config.TABLE)
        cur.execute(f"COMMENT ON TABLE {config.TABLE} IS %s", (marker,))
    return LegacyTable(
        config.TABLE, rows, dict(sorted(planted.items())), time.perf_counter() - started, False
    )


def make_small_table(rows: int) -> int:
    """Copy the first ``rows`` rows of the main table into the scaling point's table."""
    marker = f"first {rows} rows of {config.TABLE}"
    with closing(connect()) as con, con.cursor() as cur:
        main = _comment(cur, config.TABLE) or ""
        if _comment(cur, config.SMALL_TABLE) == f"{marker} ({main})":
            return rows
        cur.execute(f"DROP TABLE IF EXISTS {config.SMALL_TABLE}")
        cur.execute(
            f"CREATE TABLE {config.SMALL_TABLE} AS SELECT * FROM {config.TABLE} LIMIT {rows}"
        )
        _finish_table(cur, config.SMALL_TABLE)
        cur.execute(f"COMMENT ON TABLE {config.SMALL_TABLE} IS %s", (f"{marker} ({main})",))
    return rows


@dataclass(frozen=True)
class ChangeRound:
    """One day of changes at the legacy system."""

    boundary: str
    updated: int
    at_boundary: int
    inserted: int
    inserted_dirty: int


def change_round(round_no: int, rows: int, seed: int, share: float = 0.01) -> ChangeRound:
    """Change ``share`` of the rows, some of them at exactly the last read's boundary time.

    About ``share`` of the rows get a new address and a later ``gxsj``; one in ten of those
    (and a few new persons) get ``gxsj`` equal to the current maximum, the instant the last
    sync read up to: a cursor read with ``>`` instead of ``>=`` would lose them.
    """
    inserted = max(1, round(rows * share / 100))
    with closing(connect()) as con, con.cursor() as cur:
        cur.execute(f"COMMENT ON TABLE {config.TABLE} IS 'exhub-bench: changed, not pristine'")
        cur.execute(
            f"CREATE TABLE IF NOT EXISTS {config.BACKUP_TABLE} AS "
            f"SELECT * FROM {config.TABLE} WHERE false"
        )
        cur.execute(f"SELECT max(gxsj) FROM {config.TABLE}")
        boundary = cur.fetchone()[0]
        modulus = max(1, round(1 / share))
        condition = f"mod(abs(hashtext(sfzh || ':{round_no}')), {modulus}) = 0"
        cur.execute(
            f"INSERT INTO {config.BACKUP_TABLE} SELECT * FROM {config.TABLE} t "
            f"WHERE {condition} AND NOT EXISTS "
            f"(SELECT 1 FROM {config.BACKUP_TABLE} b WHERE b.sfzh = t.sfzh)"
        )
        cur.execute(
            f"UPDATE {config.TABLE} SET zz = left(zz, 180) || '（{round_no}次变更）', "
            f"gxsj = CASE WHEN mod(abs(hashtext(sfzh)), 10) = 0 THEN %s "
            f"ELSE %s + (1 + mod(abs(hashtext(sfzh)), 3600)) * interval '1 second' END "
            f"WHERE {condition}",
            (boundary, boundary),
        )
        updated = cur.rowcount
        cur.execute(
            f"SELECT count(*) FROM {config.TABLE} WHERE gxsj = %s AND {condition}", (boundary,)
        )
        at_boundary = cur.fetchone()[0]
        table, dirt = generate_chunk(rows + 1_000_000 * (round_no + 1), inserted, seed)
        table = table.set_column(
            table.schema.get_field_index("gxsj"),
            "gxsj",
            pa.array([boundary] * inserted, pa.timestamp("s")),
        )
        sink = pa.BufferOutputStream()
        pacsv.write_csv(table, sink, pacsv.WriteOptions(include_header=False))
        cur.execute(
            f"CREATE TEMP TABLE staged AS SELECT * FROM {config.TABLE} WHERE false; "
            f"CREATE TABLE IF NOT EXISTS {config.INSERTED_TABLE} (sfzh varchar(18))"
        )
        cur.copy_expert(
            f"COPY staged ({', '.join(COLUMN_NAMES)}) FROM STDIN WITH (FORMAT csv)",
            _BytesReader(sink.getvalue().to_pybytes()),
        )
        cur.execute(
            f"INSERT INTO {config.TABLE} SELECT * FROM staged; "
            f"INSERT INTO {config.INSERTED_TABLE} SELECT sfzh FROM staged; DROP TABLE staged"
        )
    return ChangeRound(str(boundary), updated, at_boundary, inserted, sum(dirt.values()))


def restore(rows: int, seed: int) -> None:
    """Undo every change round: the main table is pristine (and reusable) again."""
    with closing(connect()) as con, con.cursor() as cur:
        cur.execute("SELECT to_regclass(%s)", (config.BACKUP_TABLE,))
        if cur.fetchone()[0] is None:
            return
        cur.execute("SELECT to_regclass(%s)", (config.INSERTED_TABLE,))
        if cur.fetchone()[0] is not None:
            cur.execute(
                f"DELETE FROM {config.TABLE} WHERE sfzh IN "
                f"(SELECT sfzh FROM {config.INSERTED_TABLE}); DROP TABLE {config.INSERTED_TABLE}"
            )
        set_list = ", ".join(f"{c} = b.{c}" for c in COLUMN_NAMES if c != "sfzh")
        cur.execute(
            f"UPDATE {config.TABLE} t SET {set_list} FROM {config.BACKUP_TABLE} b "
            f"WHERE b.sfzh = t.sfzh"
        )
        cur.execute(f"DROP TABLE {config.BACKUP_TABLE}")
        cur.execute(f"SELECT count(*) FROM {config.TABLE}")
        count = cur.fetchone()[0]
        if count != rows:
            cur.execute(f"COMMENT ON TABLE {config.TABLE} IS 'exhub-bench: broken, regenerate'")
            return
        cur.execute(f"VACUUM (FREEZE, ANALYZE) {config.TABLE}")
        cur.execute(f"COMMENT ON TABLE {config.TABLE} IS %s", (_marker(rows, seed),))
