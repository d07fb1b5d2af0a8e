"""The behaviour suite every connector must pass, in the style of the Singer SDK test factory.

Subclass ``ConnectorBehaviour`` in a test module and provide its fixtures::

    class TestSqliteBehaviour(ConnectorBehaviour):
        @pytest.fixture
        def connector(self, tmp_path): ...

        @pytest.fixture
        def known_request(self): return ReadRequest("people", key_columns=("id",), batch_size=2)

        @pytest.fixture
        def expected_rows(self): return [{"id": 1, "name": "张三"}, ...]

        @pytest.fixture
        def error_cases(self, ...): return [ErrorCase("missing table", ..., ConfigError)]

Fixtures may be parametrized (e.g. over database servers): every test then runs per server.
Register assertion rewriting for this module in the tests' conftest
(``pytest.register_assert_rewrite("connectors.testing")``) for detailed failure messages.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import traceback
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import quote, quote_plus

import pyarrow as pa
import pytest

from connectors.base import (
    POSITION_COLUMN,
    REJECT_SCHEMA,
    Capability,
    Connector,
    ExtractBatch,
    ReadRequest,
)
from connectors.registry import load_connector
from exhub.errors import ConfigError, ExhubError


@dataclass(frozen=True)
class ErrorCase:
    """An action that must fail with one error class.

    Attributes:
        id: short name shown on failure.
        action: called with no argument; must raise ``error``.
        error: the expected exception class.
        match: regular expression that ``str(exception)`` must contain, if given.
    """

    id: str
    action: Callable[[], object]
    error: type[Exception]
    match: str | None = None


@dataclass(frozen=True)
class SecretCase:
    """A connector configured with a secret, and actions that must never reveal it.

    Attributes:
        secret: the secret as the operator wrote it (its URL-encoded forms are checked too).
        connector: the connector holding it (its ``describe`` and options are checked).
        actions: called in turn; each may succeed or raise an ``ExhubError``.
    """

    secret: str
    connector: Connector
    actions: Sequence[Callable[[], object]] = field(default_factory=tuple)


def read_all(connector: Connector, request: ReadRequest) -> list[ExtractBatch]:
    """Every batch of one read.

    Args:
        connector: the connector.
        request: what to read.

    Returns:
        list[ExtractBatch]: the batches, in order.
    """
    return list(connector.read_batches(request))


def records_of(batches: Iterable[ExtractBatch]) -> pa.Table:
    """All records of a read as one table (batches must share a schema)."""
    batches = list(batches)
    if not batches:
        return pa.table({POSITION_COLUMN: pa.array([], pa.string())})
    return pa.Table.from_batches([b.records for b in batches])


def rejects_of(batches: Iterable[ExtractBatch]) -> pa.Table:
    """All rejects of a read as one table with ``REJECT_SCHEMA``."""
    tables = [b.rejects for b in batches if b.rejects is not None]
    return pa.concat_tables(tables) if tables else REJECT_SCHEMA.empty_table()


def source_rows(table: pa.Table) -> list[dict[str, Any]]:
    """Records as dicts of the source's columns (position left out)."""
    return [{k: v for k, v in row.items() if k != POSITION_COLUMN} for row in table.to_pylist()]


def watermark_text(value: Any) -> str:
    """A cursor value as the ISO text the engine stores as a watermark."""
    if isinstance(value, dt.date | dt.datetime | dt.time):
        return value.isoformat()
    return str(value)


def secret_forms(secret: str) -> list[str]:
    """The secret as written, URL-quoted and form-quoted."""
    return sorted({secret, quote(secret, safe=""), quote_plus(secret)})


def _hashable(row: dict[str, Any]) -> tuple[tuple[str, Any], ...]:
    return tuple(sorted(row.items()))


def _fixture_missing(name: str) -> Any:
    pytest.fail(f"the connector's test class must provide the '{name}' fixture")


class ConnectorBehaviour:
    """Behaviour tests shared by every connector; subclasses provide the fixtures.

    Required fixtures: ``connector`` (a ready connector), ``known_request`` (a request whose
    ``batch_size`` is smaller than the number of rows, and with a ``cursor`` for incremental
    connectors), ``expected_rows`` (the source rows it must return, without position) and
    ``error_cases``. Optional: ``expected_reject_count`` (default 0) and ``secret_case``
    (default None: the connector holds no secret). A connector with
    ``Capability.FILE_LEDGER`` must have ``ledger_after(request) -> str``
    (see ``connectors.files.ledger``).
    """

    @pytest.fixture
    def connector(self) -> Connector:
        """A ready connector (close it in the fixture's teardown)."""
        return _fixture_missing("connector")

    @pytest.fixture
    def known_request(self) -> ReadRequest:
        """A request for rows the test knows."""
        return _fixture_missing("known_request")

    @pytest.fixture
    def expected_rows(self) -> list[dict[str, Any]]:
        """The rows ``known_request`` must return, as Python values."""
        return _fixture_missing("expected_rows")

    @pytest.fixture
    def error_cases(self) -> Sequence[ErrorCase]:
        """Misconfigurations and outages with the error class each must raise."""
        return _fixture_missing("error_cases")

    @pytest.fixture
    def expected_reject_count(self) -> int:
        """How many rejects ``known_request`` yields."""
        return 0

    @pytest.fixture
    def secret_case(self) -> SecretCase | None:
        """A connector holding a secret, or None when the connector takes none."""
        return None

    @pytest.fixture
    def batches(self, connector: Connector, known_request: ReadRequest) -> list[ExtractBatch]:
        """One full read of ``known_request``."""
        return read_all(connector, known_request)

    # --- declaration --------------------------------------------------------------------

    def test_declares_itself(self, connector: Connector) -> None:
        """Name, capabilities, entry point and a frozen options model forbidding extras."""
        assert isinstance(connector.name, str) and connector.name
        assert all(isinstance(c, Capability) for c in connector.capabilities)
        assert load_connector(connector.name) is type(connector), "entry point mismatch"
        config = connector.options_model.model_config
        assert config.get("frozen") is True, "options model must be frozen"
        assert config.get("extra") == "forbid", "options model must forbid unknown keys"
        with pytest.raises(ConfigError):
            type(connector).from_options({"no_such_option": 1}, where="test.yaml")

    def test_describe_is_one_line(self, connector: Connector) -> None:
        """``describe`` is one line fit for a log."""
        text = connector.describe()
        assert text and "\n" not in text

    def test_close_is_idempotent(self, connector: Connector) -> None:
        """``close`` may be called twice."""
        connector.close()
        connector.close()

    # --- batches ------------------------------------------------------------------------

    def test_no_batch_exceeds_batch_size(
        self,
        batches: list[ExtractBatch],
        known_request: ReadRequest,
        expected_rows: list[dict[str, Any]],
    ) -> None:
        """Memory is bounded by ``batch_size``, not by the source."""
        for batch in batches:
            assert batch.records.num_rows <= known_request.batch_size
        if len(expected_rows) > known_request.batch_size:
            assert len(batches) > 1, "known_request must need several batches"

    def test_schema_is_stable_across_batches(self, batches: list[ExtractBatch]) -> None:
        """Every batch has the first batch's schema, position last."""
        assert batches, "the known request yielded nothing"
        first = batches[0].records.schema
        assert first.names[-1] == POSITION_COLUMN
        assert first.field(POSITION_COLUMN).type == pa.string()
        for batch in batches[1:]:
            assert batch.records.schema == first

    def test_rows_are_the_expected_rows(
        self, batches: list[ExtractBatch], expected_rows: list[dict[str, Any]]
    ) -> None:
        """The read returns exactly the expected rows (as a multiset)."""
        got = source_rows(records_of(batches))
        assert len(got) == len(expected_rows)
        if expected_rows:
            assert set(got[0]) == set(expected_rows[0]), "column names differ"
        missing = Counter(map(_hashable, expected_rows)) - Counter(map(_hashable, got))
        extra = Counter(map(_hashable, got)) - Counter(map(_hashable, expected_rows))
        assert not missing and not extra, f"missing {list(missing)}, unexpected {list(extra)}"

    def test_rejects_have_the_reject_schema(
        self, batches: list[ExtractBatch], expected_reject_count: int
    ) -> None:
        """Rejects use ``REJECT_SCHEMA`` and none is lost or invented."""
        for batch in batches:
            if batch.rejects is not None:
                assert batch.rejects.schema.equals(REJECT_SCHEMA)
        assert rejects_of(batches).num_rows == expected_reject_count

    def test_every_row_has_a_unique_position(self, batches: list[ExtractBatch]) -> None:
        """Records and rejects each carry a distinct, non-empty position."""
        positions = records_of(batches).column(POSITION_COLUMN).to_pylist()
        positions += rejects_of(batches).column(POSITION_COLUMN).to_pylist()
        assert None not in positions and "" not in positions
        duplicated = [p for p, n in Counter(positions).items() if n > 1]
        assert not duplicated, f"positions repeated: {duplicated[:5]}"

    def test_declared_key_positions_rebuild_every_position(
        self, connector: Connector, known_request: ReadRequest, batches: list[ExtractBatch]
    ) -> None:
        """A connector declaring ``KeyPositions`` emits exactly what the rule rebuilds.

        The landing leaves such positions out and rebuilds them on reading: any difference
        would change where a quarantined row says it came from.
        """
        rule = connector.key_positions(known_request)
        if rule is None:
            pytest.skip(f"{connector.name} positions are not built from the key alone")
        for batch in batches:
            emitted = batch.records.column(POSITION_COLUMN)
            landed = batch.records.drop_columns([POSITION_COLUMN])
            assert rule.of(landed).equals(emitted)

    def test_reads_are_repeatable(
        self,
        connector: Connector,
        known_request: ReadRequest,
        batches: list[ExtractBatch],
    ) -> None:
        """Two reads of an unchanged source return the same records in the same order."""
        again = records_of(read_all(connector, known_request))
        assert again.equals(records_of(batches))

    # --- incremental --------------------------------------------------------------------

    def test_incremental_resume(
        self,
        connector: Connector,
        known_request: ReadRequest,
        batches: list[ExtractBatch],
    ) -> None:
        """A watermark returns exactly the rows whose cursor is at or after it."""
        if Capability.INCREMENTAL not in connector.capabilities:
            pytest.skip(f"{connector.name} is not incremental")
        cursor = known_request.cursor
        assert cursor, "an incremental connector's known_request must name a cursor"
        first = records_of(batches)
        rows = list(
            zip(
                first.column(POSITION_COLUMN).to_pylist(),
                first.column(cursor).to_pylist(),
                strict=True,
            )
        )
        values = sorted({v for _, v in rows if v is not None})
        assert len(values) >= 3, "known rows need at least 3 distinct cursor values"
        for mark in (values[-1], values[len(values) // 2]):
            request = replace(known_request, watermark=watermark_text(mark), lookback_seconds=0)
            again = records_of(read_all(connector, request))
            expected = {p for p, v in rows if v is not None and v >= mark}
            got = again.column(POSITION_COLUMN).to_pylist()
            assert sorted(got) == sorted(expected), f"watermark {watermark_text(mark)}"
            got_cursor = again.column(cursor).to_pylist()
            assert got_cursor == sorted(got_cursor), "incremental reads are ordered by cursor"

    # --- file ledger --------------------------------------------------------------------

    def test_file_ledger_skips_what_was_ingested(
        self,
        connector: Connector,
        known_request: ReadRequest,
        batches: list[ExtractBatch],
    ) -> None:
        """Given the ledger of a read, a second read of unchanged files reads nothing."""
        if Capability.FILE_LEDGER not in connector.capabilities:
            pytest.skip(f"{connector.name} keeps no file ledger")
        ledger_after = getattr(connector, "ledger_after", None)
        assert callable(ledger_after), "a FILE_LEDGER connector must have ledger_after(request)"
        ledger = ledger_after(known_request)
        files = json.loads(ledger)["files"]
        assert files, "the ledger names no file"
        for entry in files.values():
            assert set(entry) == {"size", "sha256"}
        request = replace(known_request, watermark=ledger)
        again = read_all(connector, request)
        assert records_of(again).num_rows == 0 and rejects_of(again).num_rows == 0
        assert ledger_after(request) == ledger, "skipped files stay in the ledger"

    # --- errors and secrets -------------------------------------------------------------

    def test_errors_are_the_right_class(self, error_cases: Sequence[ErrorCase]) -> None:
        """Each error case raises its class, an ``ExhubError``."""
        assert error_cases, "give at least one error case"
        for case in error_cases:
            with pytest.raises(case.error, match=case.match) as info:
                case.action()
            assert isinstance(info.value, ExhubError), f"{case.id}: not an ExhubError"

    def test_secrets_are_never_revealed(
        self, secret_case: SecretCase | None, caplog: pytest.LogCaptureFixture
    ) -> None:
        """The secret is absent from describe, options, errors, tracebacks and logs."""
        if secret_case is None:
            pytest.skip("this connector takes no secret")
        caplog.set_level(logging.DEBUG)
        texts = [
            secret_case.connector.describe(),
            repr(secret_case.connector.options),
            str(secret_case.connector.options),
        ]
        for action in secret_case.actions:
            try:
                action()
            except ExhubError as exc:
                texts += [str(exc), repr(exc), repr(exc.context), str(exc.fix)]
                texts.append("".join(traceback.format_exception(exc)))
        texts.append(caplog.text)
        for form in secret_forms(secret_case.secret):
            for text in texts:
                assert form not in text, "a secret leaked"
