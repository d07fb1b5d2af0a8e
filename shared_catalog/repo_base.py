"""Engine, sessions and statement helpers behind :class:`~shared_catalog.CatalogRepository`.

The repository is one class assembled from small parts (this base, ``repo_registry`` and
``repo_runs``) to keep modules short; only :meth:`RepositoryBase._session` opens sessions.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Self, TypeVar

from sqlalchemy import case, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import URL
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import InstrumentedAttribute, Session, sessionmaker

from shared_catalog.engine import SQLITE_BEGIN_OPTION, create_catalog_engine
from shared_catalog.errors import CatalogError
from shared_catalog.migrate import upgrade_catalog
from shared_catalog.models import Base

R = TypeVar("R")


class RepositoryBase:
    """Owns the engine and the sessions; see :class:`~shared_catalog.CatalogRepository`.

    Args:
        url: Catalog URL.
        clock: Returns the current time, timezone-aware; defaults to UTC now.
        **engine_kwargs: Passed on to :func:`sqlalchemy.create_engine`.

    Raises:
        CatalogError: If the URL is invalid or names an unsupported database.
    """

    def __init__(
        self,
        url: str | URL,
        *,
        clock: Callable[[], datetime] | None = None,
        **engine_kwargs: Any,
    ) -> None:
        self._engine = create_catalog_engine(url, **engine_kwargs)
        self._dialect = self._engine.dialect.name
        self._clock = clock or (lambda: datetime.now(UTC))
        self._writer = sessionmaker(self._engine, expire_on_commit=False)
        reader = self._engine.execution_options(**{SQLITE_BEGIN_OPTION: "DEFERRED"})
        self._reader = sessionmaker(reader, expire_on_commit=False)

    @property
    def url(self) -> URL:
        """The catalog URL (its string form hides the password)."""
        return self._engine.url

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._engine.url!r})"

    def close(self) -> None:
        """Close every pooled connection; the repository reconnects if used again."""
        self._engine.dispose()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def ensure_schema(self) -> None:
        """Create or upgrade the catalog tables; idempotent and safe to call concurrently."""
        upgrade_catalog(self._engine)

    @contextmanager
    def _session(self, *, write: bool = True) -> Iterator[Session]:
        """Open a session; use as ``with self._session() as s, s.begin():``.

        Write sessions on SQLite begin ``IMMEDIATE`` (take the write lock first), read-only
        ones ``DEFERRED``. Constraint violations become :class:`CatalogError`.
        """
        maker = self._writer if write else self._reader
        with maker() as session:
            try:
                yield session
            except IntegrityError as exc:
                raise CatalogError(
                    f"catalog constraint violated: {exc.orig}",
                    fix="register the department, source system or dataset referred to first",
                ) from exc

    def _now(self) -> datetime:
        now = self._clock()
        if now.tzinfo is None or now.utcoffset() is None:
            raise CatalogError("the repository clock returned a naive datetime")
        return now.astimezone(UTC)

    def _upsert(
        self,
        session: Session,
        model: type[Base],
        values: Mapping[str, Any],
        *,
        keys: tuple[str, ...],
        touch: tuple[str, ...] = (),
        insert_only: tuple[str, ...] = (),
        monotonic: tuple[str, ...] = (),
    ) -> None:
        """Insert a row or update it in one atomic ``INSERT ... ON CONFLICT`` statement.

        Args:
            session: The open session.
            model: The mapped class.
            values: Column values of the row.
            keys: Columns of the primary key or unique constraint that identifies the row.
            touch: Columns (``updated_at``) rewritten only when another column changed.
            insert_only: Columns (``created_at``) never updated.
            monotonic: Columns only ever increased.
        """
        table = model.__table__
        insert = postgresql.insert if self._dialect == "postgresql" else sqlite.insert
        statement = insert(table).values(**values)
        excluded = statement.excluded
        compared = [c for c in values if c not in {*keys, *touch, *insert_only}]
        new = {c: excluded[c] for c in compared}
        for c in monotonic:
            new[c] = case((excluded[c] > table.c[c], excluded[c]), else_=table.c[c])
        if not new:
            session.execute(statement.on_conflict_do_nothing(index_elements=list(keys)))
            return
        changed = or_(*(table.c[c].is_distinct_from(expr) for c, expr in new.items()))
        session.execute(
            statement.on_conflict_do_update(
                index_elements=list(keys),
                set_={**new, **{c: excluded[c] for c in touch}},
                where=changed,
            )
        )

    def _list(
        self,
        model: type[Base],
        record: Callable[[Any], R],
        *order_by: InstrumentedAttribute[Any],
    ) -> list[R]:
        with self._session(write=False) as s, s.begin():
            return [record(row) for row in s.scalars(select(model).order_by(*order_by))]

    def _get(self, model: type[Base], key: Any, record: Callable[[Any], R]) -> R | None:
        with self._session(write=False) as s, s.begin():
            row = s.get(model, key)
            return None if row is None else record(row)
