"""The hash-chained audit log on SQLite and on a real PostgreSQL server."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text

from shared_catalog import CatalogRepository
from shared_catalog.audit import GENESIS, entry_hash
from shared_catalog.testing import StepClock

pytestmark = pytest.mark.integration


@pytest.fixture
def repo(catalog_url: str) -> Iterator[CatalogRepository]:
    with CatalogRepository(catalog_url, clock=StepClock()) as repository:
        repository.ensure_schema()
        yield repository


@pytest.fixture
def three(repo: CatalogRepository) -> CatalogRepository:
    for n, dataset in enumerate(("person", "legal_entity", "person"), start=1):
        repo.append_audit(
            actor="civil_affairs",
            action="query",
            target=dataset,
            purpose="婚姻登记核验" if n != 2 else None,
            detail={"sql": f"SELECT * FROM {dataset}", "rows": n * 10, "outcome": "ok"},
        )
    return repo


def _sql(repo: CatalogRepository, statement: str, **params) -> None:
    engine = create_engine(repo.url.render_as_string(hide_password=False))
    try:
        with engine.begin() as connection:
            connection.execute(text(statement), params)
    finally:
        engine.dispose()


def test_entries_chain_to_the_one_before(three: CatalogRepository) -> None:
    entries = three.list_audit()
    assert [e.seq for e in entries] == [3, 2, 1]  # newest first
    first = entries[-1]
    assert first.prev_hash == GENESIS
    assert entries[1].prev_hash == first.hash and entries[0].prev_hash == entries[1].hash
    assert first.purpose == "婚姻登记核验" and first.detail["rows"] == 10
    assert first.hash == entry_hash(
        seq=1,
        at=first.at,
        actor="civil_affairs",
        action="query",
        target="person",
        purpose="婚姻登记核验",
        detail={"sql": "SELECT * FROM person", "rows": 10, "outcome": "ok"},
        prev_hash=GENESIS,
    )
    assert [e.seq for e in three.list_audit(limit=1)] == [3]


def test_an_intact_log_verifies_and_names_its_head(three: CatalogRepository) -> None:
    verdict = three.verify_audit()
    assert verdict.intact
    assert verdict.entries == 3
    assert (verdict.head_seq, verdict.head_hash) == (3, three.list_audit(limit=1)[0].hash)


def test_an_empty_log_is_intact(repo: CatalogRepository) -> None:
    verdict = repo.verify_audit()
    assert verdict.intact and verdict.entries == 0 and verdict.head_seq is None


@pytest.mark.parametrize(
    "column, value",
    [("detail", '{"sql": "SELECT 1", "rows": 0, "outcome": "ok"}'), ("actor", "someone_else")],
)
def test_a_changed_entry_breaks_the_chain_there(
    three: CatalogRepository, column: str, value: str
) -> None:
    _sql(three, f"UPDATE exhub_audit_log SET {column} = :value WHERE seq = 2", value=value)
    verdict = three.verify_audit()
    assert not verdict.intact
    assert verdict.broken_at == 2
    assert "changed after it was written" in verdict.problem
    assert (verdict.entries, verdict.head_seq) == (1, 1)


def test_a_removed_entry_breaks_the_chain_after_it(three: CatalogRepository) -> None:
    _sql(three, "DELETE FROM exhub_audit_log WHERE seq = 2")
    verdict = three.verify_audit()
    assert verdict.broken_at == 3
    assert verdict.problem == "entry 2 before it is missing"


def test_a_rewritten_entry_with_a_fresh_hash_still_breaks_the_link(
    three: CatalogRepository,
) -> None:
    """Whoever rehashes a changed entry must rewrite every later one too."""
    second = three.list_audit()[1]
    forged = {"sql": "SELECT 1", "rows": 0, "outcome": "ok"}
    new_hash = entry_hash(
        seq=2,
        at=second.at,
        actor=second.actor,
        action=second.action,
        target=second.target,
        purpose=second.purpose,
        detail=forged,
        prev_hash=second.prev_hash,
    )
    _sql(
        three,
        "UPDATE exhub_audit_log SET detail = :detail, hash = :hash WHERE seq = 2",
        detail='{"sql": "SELECT 1", "rows": 0, "outcome": "ok"}',
        hash=new_hash,
    )
    verdict = three.verify_audit()
    assert verdict.broken_at == 3
    assert "does not follow entry 2" in verdict.problem


def test_concurrent_writers_keep_one_unbroken_chain(catalog_url: str) -> None:
    with CatalogRepository(catalog_url) as setup:
        setup.ensure_schema()
    errors: list[BaseException] = []

    def writer(name: str) -> None:
        try:
            with CatalogRepository(catalog_url) as own:  # its own engine, as another process
                for n in range(10):
                    own.append_audit(actor=name, action="query", target="person", detail={"n": n})
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(f"dept_{i}",)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with CatalogRepository(catalog_url) as repo:
        verdict = repo.verify_audit()
        assert verdict.intact, verdict.problem
        assert verdict.entries == 40
        assert sorted(e.seq for e in repo.list_audit()) == list(range(1, 41))


def test_a_departments_entries_are_found_in_sql_however_old(repo: CatalogRepository) -> None:
    def act(actor: str, target: str) -> int:
        return repo.append_audit(actor=actor, action="query", target=target).seq

    own = act("civil_affairs", "legal_entity")
    alone = act("public_security", "person_registry")
    first = act("public_security", "legal_entity, person_registry")
    middle = act("public_security", "a, person_registry, b")
    last = act("public_security", "person_registry, legal_entity")
    # '_' would match any character in a LIKE pattern, and a prefix is not a name.
    act("public_security", "personXregistry")
    act("public_security", "person_registry_old")
    act("public_security", "old_person_registry, x")
    for _ in range(30):  # newer entries of others, more than the limit asked for
        act("public_security", "legal_entity")

    involving = ("civil_affairs", {"person_registry"})
    found = [e.seq for e in repo.list_audit(involving=involving)]
    assert found == [last, middle, first, alone, own]
    assert [e.seq for e in repo.list_audit(limit=2, involving=involving)] == [last, middle]
    assert [e.seq for e in repo.list_audit(involving=("civil_affairs", set()))] == [own]
