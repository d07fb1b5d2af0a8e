"""Access requests and grants in the catalog, on SQLite and on a real PostgreSQL server."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta

import pytest

from shared_catalog import AccessStatus, CatalogError, CatalogRepository
from shared_catalog.testing import START, StepClock

pytestmark = pytest.mark.integration


@pytest.fixture
def repo(catalog_url: str) -> Iterator[CatalogRepository]:
    with CatalogRepository(catalog_url, clock=StepClock()) as repository:
        repository.ensure_schema()
        repository.upsert_department("public_security", "公安局")
        repository.upsert_department("civil_affairs", "民政局")
        repository.upsert_dataset(
            "person",
            "population",
            "自然人",
            "Person",
            "public_security",
            "conditional",
            "daily",
            1,
            "population.person",
        )
        yield repository


def _ask(repo: CatalogRepository, *, days: int = 30, columns=("resident_id", "name")):
    return repo.create_access_request(
        dataset_name="person",
        department_id="civil_affairs",
        purpose="婚姻登记核验",
        columns=list(columns),
        expires_at=START + timedelta(days=days),
        requested_by="clerk",
    )


def test_a_request_starts_pending_and_grants_nothing(repo: CatalogRepository) -> None:
    request = _ask(repo)
    assert request.id >= 1 and request.status == AccessStatus.PENDING
    assert request.columns == ["resident_id", "name"] and request.requested_by == "clerk"
    assert repo.get_access_request(request.id) == request
    assert repo.active_grants("civil_affairs") == []


def test_an_approved_request_is_a_grant_until_revoked(repo: CatalogRepository) -> None:
    request = _ask(repo)
    approved = repo.decide_access_request(
        request.id, approve=True, decided_by="public_security", reason="依法履职"
    )
    assert approved.status == AccessStatus.APPROVED and approved.decision_reason == "依法履职"
    assert [g.id for g in repo.active_grants("civil_affairs")] == [request.id]
    assert [g.id for g in repo.active_grants("civil_affairs", dataset_name="person")] == [
        request.id
    ]
    assert repo.active_grants("public_security") == []

    revoked = repo.revoke_grant(request.id, revoked_by="public_security", reason="用途已结束")
    assert revoked.status == AccessStatus.REVOKED and revoked.revoke_reason == "用途已结束"
    assert revoked.decided_by == "public_security" and revoked.revoked_at is not None
    assert repo.active_grants("civil_affairs") == []


def test_an_expired_grant_is_not_in_force(repo: CatalogRepository) -> None:
    request = _ask(repo, days=-1)
    repo.decide_access_request(request.id, approve=True, decided_by="ps", reason="ok")
    assert repo.active_grants("civil_affairs") == []
    assert not repo.get_access_request(request.id).active_at(START)


def test_answers_only_apply_to_pending_and_revocation_to_approved(repo: CatalogRepository) -> None:
    refused = _ask(repo)
    repo.decide_access_request(refused.id, approve=False, decided_by="ps", reason="用途不明确")
    with pytest.raises(CatalogError, match=f"request {refused.id} is refused, not pending"):
        repo.decide_access_request(refused.id, approve=True, decided_by="ps", reason="改主意")
    with pytest.raises(CatalogError, match="is refused, not approved"):
        repo.revoke_grant(refused.id, revoked_by="ps", reason="x")
    with pytest.raises(CatalogError, match="request 999 does not exist"):
        repo.decide_access_request(999, approve=True, decided_by="ps", reason="x")


def test_listing_narrows_by_dataset_department_and_status(repo: CatalogRepository) -> None:
    first, second = _ask(repo), _ask(repo, columns=("mobile",))
    repo.decide_access_request(second.id, approve=True, decided_by="ps", reason="ok")
    assert [r.id for r in repo.list_access_requests()] == [second.id, first.id]
    pending = repo.list_access_requests(status=AccessStatus.PENDING)
    assert [r.id for r in pending] == [first.id]
    assert repo.list_access_requests(department_id="public_security") == []
    assert len(repo.list_access_requests(dataset_name="person")) == 2


def test_two_owners_answering_at_once_cannot_both_win(repo: CatalogRepository) -> None:
    request = _ask(repo)
    outcomes: list[str] = []
    barrier = threading.Barrier(4)

    def answer(approve: bool) -> None:
        barrier.wait()
        try:
            repo.decide_access_request(request.id, approve=approve, decided_by="ps", reason="r")
            outcomes.append("approved" if approve else "refused")
        except CatalogError:
            outcomes.append("lost")

    threads = [threading.Thread(target=answer, args=(n % 2 == 0,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes).count("lost") == 3
    final = repo.get_access_request(request.id).status
    assert [o for o in outcomes if o != "lost"] == [final]
