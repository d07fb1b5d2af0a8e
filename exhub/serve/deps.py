"""What every route needs: the hub, the caller, and the two refusals (sign in, forbidden)."""

from __future__ import annotations

from fastapi import Request

from exhub.engine.hub import Hub
from exhub.serve.identity import Principal, TokenBook


class SignInRequired(Exception):
    """No valid token or session."""


class Forbidden(Exception):
    """The principal may not do this."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def principal_of(request: Request) -> Principal:
    """The caller: the bearer token for the API, the signed session for the pages.

    The API takes only tokens, so a page in another tab cannot make the browser call it with
    the portal's cookie. A form post must come from the portal itself (its Origin, when the
    browser sends one, is this server).

    Raises:
        SignInRequired: neither identifies a configured principal.
        Forbidden: a form posted from another origin.
    """
    tokens: TokenBook = request.app.state.tokens
    if request.url.path.startswith("/api/"):
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        found = tokens.who(token.strip()) if scheme.lower() == "bearer" else None
    else:
        if request.method == "POST" and not _same_origin(request):
            raise Forbidden("this form was posted from another site")
        found = tokens.named(request.session.get("who"))
    if found is None:
        raise SignInRequired()
    return found


def _same_origin(request: Request) -> bool:
    origin = request.headers.get("origin")
    if origin is None or origin == "null":
        return origin is None  # no header: not a cross-site browser post
    return origin.rstrip("/") == f"{request.url.scheme}://{request.url.netloc}"


def hub_of(request: Request) -> Hub:
    """The hub the app serves."""
    return request.app.state.hub


def may_read_raw_rows(principal: Principal, hub: Hub, dataset: str) -> bool:
    """Quarantined rows hold raw source values: the operator, auditors and the owner only."""
    return principal.is_operator or principal.is_auditor or principal.owns(hub, dataset)


def require_reader_of_raw_rows(principal: Principal, hub: Hub, dataset: str) -> None:
    """Raises Forbidden unless ``may_read_raw_rows``."""
    if not may_read_raw_rows(principal, hub, dataset):
        raise Forbidden(
            f"quarantined rows of '{dataset}' hold raw values: only its owner, the operator "
            "and auditors see them"
        )


def require_department(principal: Principal, what: str) -> str:
    """The principal's department; raises Forbidden for the operator and auditors."""
    if principal.department is None:
        raise Forbidden(f"{what} is done by a department, not by the {principal.name}")
    return principal.department


def require_querier(principal: Principal) -> None:
    """Auditors review; they do not read datasets."""
    if principal.is_auditor:
        raise Forbidden("auditors review runs, quarantine and the audit log; they do not query")
