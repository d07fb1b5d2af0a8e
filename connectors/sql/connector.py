"""Read one table of a legacy database (PostgreSQL, MySQL/MariaDB, SQLite, ...) as Arrow batches.

Legacy systems tolerate few connections: the engine keeps no pool (``NullPool``), so a read
holds exactly one connection and ``close`` leaves none behind. Rows are streamed with a
server-side cursor where the dialect has one (plain ``fetchmany`` on SQLite).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ClassVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pyarrow as pa
import pyarrow.compute as pc
import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy.pool import NullPool

from connectors.base import (
    POSITION_COLUMN,
    REJECT_SCHEMA,
    Capability,
    Connector,
    ExtractBatch,
    KeyPositions,
    ReadRequest,
    ramping_batch_sizes,
)
from connectors.sql.incremental import cursor_condition, lower_bound
from connectors.sql.native import (
    NativeBatch,
    adbc_errors,
    bound_literal,
    native_available,
    read_native,
    select_sql,
)
from connectors.sql.options import SqlOptions, safe_url, scrub
from connectors.sql.types import ColumnPlan, convert_column, plan_column, raw_row_text
from exhub.errors import ConfigError, SourceUnreachableError, TerminalError

log = logging.getLogger(__name__)

_TIMEOUT_ARG = {
    "psycopg2": "connect_timeout",
    "psycopg": "connect_timeout",
    "pymysql": "connect_timeout",
    "mysqldb": "connect_timeout",
    "mariadbconnector": "connect_timeout",
    "pysqlite": "timeout",
    "pg8000": "timeout",
    "pyodbc": "timeout",
}
_MYSQL_AUTH_CODES = frozenset({1044, 1045, 1698})
_PG_AUTH_CODES = frozenset({"28000", "28P01"})
_TABLES_SHOWN = 20


class SqlConnector(Connector):
    """Streams one table through SQLAlchemy Core.

    Columns are typed from the reflected table (see ``connectors.sql.types``); every row
    carries ``_source_position`` = ``"<table> <key>=<value>,..."`` (or ``"<table> row=<n>"``
    when the stream has no key). With a cursor and a watermark only rows with
    ``cursor >= watermark - lookback`` are read; rows whose cursor is NULL are read only by a
    full read. Reads are not sorted (a sort of a large legacy table costs more than the read):
    positions name the key, so they do not depend on order; without a key, ``row=N`` counts
    rows in the order the database returned them.
    """

    name: ClassVar[str] = "sql"
    options_model: ClassVar[type[SqlOptions]] = SqlOptions
    capabilities: ClassVar[frozenset[Capability]] = frozenset({Capability.INCREMENTAL})

    options: SqlOptions

    def __init__(self, options: SqlOptions) -> None:
        super().__init__(options)
        self._url = options.sa_url
        self._safe = safe_url(self._url)
        self._engine = self._create_engine()
        self._native = options.reader == "adbc" or (
            options.reader == "auto" and native_available(self._url)
        )
        if self._native and not native_available(self._url):
            raise ConfigError(
                f"{self._safe}: reader 'adbc' needs PostgreSQL and adbc-driver-postgresql",
                fix="use reader: auto or sqlalchemy, or pip install adbc-driver-postgresql",
                key="options.reader",
            )

    def describe(self) -> str:
        """The URL with its password hidden, e.g. ``postgresql+psycopg2://u:***@h:5432/db``."""
        return self._safe

    def _create_engine(self) -> sa.Engine:
        driver = self._url.get_driver_name()
        arg = _TIMEOUT_ARG.get(driver)
        connect_args: dict[str, Any] = {arg: self.options.connect_timeout_seconds} if arg else {}
        if driver == "pymysql" and self._url.password:
            # PyMySQL encodes a text password as Latin-1 (a Chinese one cannot even be sent);
            # MySQL clients send, and servers hash, UTF-8.
            connect_args["password"] = str(self._url.password).encode("utf-8")
        try:
            return sa.create_engine(self._url, poolclass=NullPool, connect_args=connect_args)
        except ModuleNotFoundError as exc:
            raise ConfigError(
                f"{self._safe}: the database driver '{exc.name}' is not installed",
                fix=f"pip install {exc.name}, or use a driver that is (e.g. +psycopg2, +pymysql)",
                key="options.url",
            ) from None
        except sa_exc.NoSuchModuleError:
            raise ConfigError(
                f"{self._safe}: unknown database dialect '{self._url.drivername}'",
                fix="use postgresql+psycopg2://, mysql+pymysql:// or sqlite:///",
                key="options.url",
            ) from None

    # --- connections and errors -------------------------------------------------------

    def _unreachable(self, exc: BaseException) -> SourceUnreachableError | ConfigError:
        detail = scrub(str(getattr(exc, "orig", None) or exc), self._url).strip()
        detail = detail.splitlines()[0] if detail else type(exc).__name__
        if _is_auth_failure(exc):
            return ConfigError(
                f"{self._safe}: the database refused the credentials: {detail}",
                fix="check the user and the password reference in the source file",
                key="options.url",
            )
        return SourceUnreachableError(
            f"cannot reach {self._safe}: {detail}",
            fix="check that the database is up and reachable from this host; runs retry",
            source=self._safe,
        )

    def _database_error(self, exc: sa_exc.DBAPIError) -> Exception:
        if isinstance(exc, sa_exc.OperationalError | sa_exc.InterfaceError):
            return self._unreachable(exc)
        detail = scrub(str(exc.orig), self._url).strip().splitlines()[0]
        if isinstance(exc, sa_exc.ProgrammingError):
            return ConfigError(
                f"{self._safe}: the query was refused: {detail}",
                fix="check that the user may SELECT the table and its columns",
                key="source_object",
            )
        return TerminalError(f"{self._safe}: the database failed the read: {detail}")

    def _check_sqlite_file(self) -> None:
        if self._url.get_backend_name() != "sqlite":
            return
        database = self._url.database or ""
        if database in ("", ":memory:") or database.startswith("file:"):
            return
        if not Path(database).is_file():
            # SQLite would silently create an empty database: a missing file is a missing
            # (perhaps unmounted) source, not an empty one.
            raise SourceUnreachableError(
                f"cannot reach {self._safe}: the SQLite file does not exist",
                fix="check the path in options.url and that its volume is mounted",
                source=self._safe,
            )

    @contextmanager
    def _connect(self) -> Iterator[sa.Connection]:
        self._check_sqlite_file()
        try:
            conn = self._engine.connect()
        except (sa_exc.OperationalError, sa_exc.InterfaceError) as exc:
            raise self._unreachable(exc) from None
        with conn:
            try:
                yield conn
            except sa_exc.DBAPIError as exc:
                raise self._database_error(exc) from None

    def check(self) -> None:
        """Connect and run ``SELECT 1``.

        Raises:
            SourceUnreachableError: the database cannot be reached.
            ConfigError: the credentials were refused.
        """
        with self._connect() as conn:
            conn.execute(sa.select(1)).scalar_one()

    def close(self) -> None:
        """Dispose of the engine (no connection is kept between reads anyway)."""
        self._engine.dispose()

    # --- reading ----------------------------------------------------------------------

    def _reflect(self, conn: sa.Connection, name: str) -> sa.Table:
        schema = self.options.schema_name
        try:
            # The columns alone: a read needs their names and types, and a whole reflection
            # (keys, indexes, constraints, comments) took 0.03 s of an incremental run more.
            columns = sa.inspect(conn).get_columns(name, schema=schema)
            fields = [sa.Column(column["name"], column["type"]) for column in columns]
            return sa.Table(name, sa.MetaData(), *fields, schema=schema)
        except sa_exc.NoSuchTableError:
            inspector = sa.inspect(conn)
            names = sorted(
                inspector.get_table_names(schema=schema) + inspector.get_view_names(schema=schema)
            )
            shown = ", ".join(names[:_TABLES_SHOWN]) or "(none)"
            more = f" and {len(names) - _TABLES_SHOWN} more" if len(names) > _TABLES_SHOWN else ""
            where = f"schema '{schema}' of {self._safe}" if schema else self._safe
            raise ConfigError(
                f"table '{name}' does not exist in {where}; existing tables: {shown}{more}",
                fix="set the stream's source_object to an existing table (or options.schema)",
                key="source_object",
                table=name,
            ) from None

    def read_batches(self, request: ReadRequest) -> Iterator[ExtractBatch]:
        """Yield the table's rows in batches of at most ``request.batch_size``.

        The first batches are smaller (``ramping_batch_sizes``), so validation can start on
        them while the rest is read.

        Args:
            request: table, keys, cursor, watermark and batch size.

        Yields:
            ExtractBatch: typed records plus ``_source_position``; rows with a value that
            does not fit its column type as rejects.

        Raises:
            SourceUnreachableError: the database cannot be reached (retriable).
            ConfigError: unknown table, column, zone or unreadable watermark.
        """
        zone = _zone(request.timezone)
        if self._native:
            yield from self._read_native(request, zone)
            return
        with self._connect() as conn:
            table = self._reflect(conn, request.source_object)
            plans = [plan_column(column.name, column.type) for column in table.columns]
            _check_columns(request, [plan.name for plan in plans])
            stmt = self._select(table, plans, request, zone, conn.dialect.name)
            if conn.dialect.supports_server_side_cursors:
                stmt = stmt.execution_options(stream_results=True, yield_per=request.batch_size)
            log.info("reading %s from %s", request.source_object, self._safe)
            result = conn.execute(stmt)
            batcher = _Batcher(plans, request, zone)
            sizes = ramping_batch_sizes(request.batch_size)
            while rows := result.fetchmany(next(sizes)):
                yield batcher.batch(rows)

    def key_positions(self, request: ReadRequest) -> KeyPositions | None:
        """A keyed table's positions are ``"<table> key=value,..."``, built from the key."""
        return _key_positions(request)

    def _read_native(self, request: ReadRequest, zone: dt.tzinfo) -> Iterator[ExtractBatch]:
        # Reflect first and let that connection go: the legacy system sees one at a time.
        with self._connect() as conn:
            table = self._reflect(conn, request.source_object)
            plans = [plan_column(column.name, column.type) for column in table.columns]
            _check_columns(request, [plan.name for plan in plans])
            preparer = conn.dialect.identifier_preparer
        bound = None
        if request.cursor and request.watermark:
            plan = next(p for p in plans if p.name == request.cursor)
            bound = lower_bound(plan, request.watermark, request.lookback_seconds, zone)
        literal = bound_literal(bound) if bound is not None else None
        sql = select_sql(
            table,
            plans,
            preparer,
            order=(),
            cursor=request.cursor,
            bound=None if bound is None else (literal or "$1"),
        )
        batcher = _Batcher(plans, request, zone)
        log.info("reading %s from %s (ADBC)", request.source_object, self._safe)
        try:
            for native in read_native(
                self._url,
                self.options.connect_timeout_seconds,
                sql,
                () if bound is None or literal else (bound,),
                plans,
                request.timezone,
                request.batch_size,
            ):
                yield batcher.arrow_batch(native)
        except adbc_errors() as exc:
            detail = scrub(str(exc), self._url).strip().splitlines()[0]
            if "connect" in detail.lower() or "IO" in type(exc).__name__:
                raise SourceUnreachableError(
                    f"cannot reach {self._safe}: {detail}",
                    fix="check that the database is up and reachable from this host; runs retry",
                    source=self._safe,
                ) from None
            raise TerminalError(f"{self._safe}: the database failed the read: {detail}") from None

    def _select(
        self,
        table: sa.Table,
        plans: Sequence[ColumnPlan],
        request: ReadRequest,
        zone: dt.tzinfo,
        dialect: str,
    ) -> sa.Select[Any]:
        # Driver values as they come: SQLAlchemy's result processors are bypassed so that one
        # set of rules (connectors.sql.types) converts them for every dialect.
        raw = sa.types.NullType()
        columns = [sa.type_coerce(table.c[p.name], raw).label(p.name) for p in plans]
        stmt = sa.select(*columns).select_from(table)
        if request.cursor and request.watermark:
            plan = next(p for p in plans if p.name == request.cursor)
            bound = lower_bound(plan, request.watermark, request.lookback_seconds, zone)
            column = table.c[request.cursor]
            stmt = stmt.where(cursor_condition(column, plan, bound, dialect))
        # No ORDER BY: a sort of the whole table cost PostgreSQL 5x the read itself; positions
        # name keys, and the cursor's maximum is computed, so order does not matter.
        return stmt


class _Batcher:
    """Turns driver rows into ``ExtractBatch`` objects, numbering rows across batches."""

    def __init__(self, plans: Sequence[ColumnPlan], request: ReadRequest, zone: dt.tzinfo):
        self.plans = plans
        self.names = [plan.name for plan in plans]
        self.request = request
        self.zone = zone
        self.rows_seen = 0
        self.key_positions = _key_positions(request)
        self.schema = pa.schema(
            [pa.field(plan.name, plan.arrow_type) for plan in plans]
            + [pa.field(POSITION_COLUMN, pa.string(), nullable=False)]
        )

    def arrow_batch(self, native: NativeBatch) -> ExtractBatch:
        """A batch from Arrow columns already conformed to the plans (native path)."""
        arrays = native.arrays
        count = len(arrays[0]) if arrays else 0
        return self._split(arrays, count, native.reasons, native.raw.__getitem__)

    def batch(self, rows: Sequence[Sequence[Any]]) -> ExtractBatch:
        arrays: list[pa.Array] = []
        bad: dict[int, list[str]] = {}
        for plan, values in zip(self.plans, zip(*rows, strict=True), strict=True):
            array, reasons = convert_column(plan, values, self.zone, self.request.timezone)
            arrays.append(array)
            for index, reason in reasons.items():
                bad.setdefault(index, []).append(reason)
        return self._split(arrays, len(rows), bad, lambda i: raw_row_text(self.names, rows[i]))

    def _split(
        self,
        arrays: list[pa.Array],
        count: int,
        bad: Mapping[int, Sequence[str]],
        raw: Callable[[int], str],
    ) -> ExtractBatch:
        """Records, and the rows in ``bad`` as rejects (position, raw values, reasons)."""
        positions = self._positions(arrays, count)
        self.rows_seen += count
        records = pa.RecordBatch.from_arrays([*arrays, positions], schema=self.schema)
        if not bad:
            return ExtractBatch(records)
        keep = pa.array([index not in bad for index in range(count)])
        rejected = sorted(bad)
        rejects = pa.table(
            [
                positions.take(rejected),
                pa.array([raw(i) for i in rejected], pa.string()),
                pa.array(["; ".join(bad[i]) for i in rejected], pa.string()),
            ],
            schema=REJECT_SCHEMA,
        )
        return ExtractBatch(records.filter(keep), rejects)

    def _positions(self, arrays: Sequence[pa.Array], count: int) -> pa.Array:
        rule = self.key_positions
        if rule is None:
            table = self.request.source_object
            numbers = pa.array(range(self.rows_seen + 1, self.rows_seen + count + 1), pa.int64())
            return pc.binary_join_element_wise(f"{table} row=", numbers.cast(pa.string()), "")
        return rule.build([arrays[self.names.index(key)] for key in rule.key_columns])


def _key_positions(request: ReadRequest) -> KeyPositions | None:
    # Keyed tables: positions name the key. Otherwise ``row=N`` counts rows in read order.
    if not request.key_columns:
        return None
    return KeyPositions(request.source_object, tuple(request.key_columns))


def _zone(name: str) -> dt.tzinfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"unknown time zone '{name}'",
            fix="use an IANA zone name such as Asia/Shanghai",
            key="timezone",
        ) from None


def _check_columns(request: ReadRequest, names: Sequence[str]) -> None:
    if POSITION_COLUMN in names:
        raise ConfigError(
            f"table '{request.source_object}' has a column named {POSITION_COLUMN}, "
            "which exhub reserves",
            fix="read the table through a view that renames that column",
            key="source_object",
        )
    wanted = [("key column", k) for k in request.key_columns]
    if request.cursor:
        wanted.append(("cursor", request.cursor))
    for role, column in wanted:
        if column not in names:
            raise ConfigError(
                f"{role} '{column}' is not a column of table '{request.source_object}'; "
                f"its columns are: {', '.join(names)}",
                fix="fix the stream's primary_key / cursor in the source file",
                key="cursor" if role == "cursor" else "primary_key",
            )


def _is_auth_failure(exc: BaseException) -> bool:
    orig = getattr(exc, "orig", None)
    args = getattr(orig, "args", ())
    if args and isinstance(args[0], int) and args[0] in _MYSQL_AUTH_CODES:
        return True
    if getattr(orig, "pgcode", None) in _PG_AUTH_CODES:
        return True
    text = str(orig or exc).lower()
    return "authentication failed" in text or "access denied for user" in text
