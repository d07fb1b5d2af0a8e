"""The portal and HTTP API application (``exhub serve``).

One FastAPI app: ``/api/...`` answers JSON (or Arrow for query results) to a bearer token,
the other paths are server-rendered pages for people who sign in once. Both call the same
functions as the CLI (``exhub.views``, ``exhub.access``, ``exhub.query``), so a department
sees exactly what ``--as DEPT`` shows it, and every read and decision is audited.
"""

from __future__ import annotations

import secrets

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.middleware.sessions import SessionMiddleware

from exhub.engine.hub import Hub
from exhub.errors import ExhubError
from exhub.serve import api, pages
from exhub.serve.deps import Forbidden, SignInRequired
from exhub.serve.identity import TokenBook

SESSION_COOKIE = "exhub_session"


def _wants_page(request: Request) -> bool:
    return not request.url.path.startswith("/api/")


def create_app(hub: Hub | None = None, *, environ: dict[str, str] | None = None) -> FastAPI:
    """The app over ``hub`` (default: the hub of the current settings).

    Raises:
        ConfigError: the tokens are not configured properly (see ``TokenBook``).
    """
    hub = hub or Hub()
    # Open what requests share before threads race to open it lazily.
    hub.repository.ensure_schema()
    _ = hub.contracts, hub.iceberg
    app = FastAPI(
        title="exhub",
        summary="Inter-department data exchange hub: catalog, runs, access, queries.",
        docs_url="/api/docs",
        redoc_url=None,
        openapi_url="/api/openapi.json",
    )
    app.state.hub = hub
    app.state.tokens = TokenBook(hub, environ)
    # A fresh key per start: sessions end when the server restarts, and no key is stored.
    app.add_middleware(
        SessionMiddleware,
        secret_key=secrets.token_urlsafe(32),
        session_cookie=SESSION_COOKIE,
        same_site="strict",
        max_age=8 * 3600,
        https_only=hub.settings.serve_https,
    )

    @app.exception_handler(SignInRequired)
    async def _sign_in(request: Request, _: SignInRequired):
        if _wants_page(request):
            return pages.redirect_to_login(request)
        return JSONResponse({"error": "sign in: send Authorization: Bearer <token>"}, 401)

    @app.exception_handler(Forbidden)
    async def _forbidden(request: Request, exc: Forbidden):
        if _wants_page(request):
            return pages.error_page(request, exc.message, status=403)
        return JSONResponse({"error": exc.message}, 403)

    @app.exception_handler(ExhubError)
    async def _refused(request: Request, exc: ExhubError):
        if _wants_page(request):
            return pages.error_page(request, exc.message, fix=exc.fix, status=exc.http_status)
        return JSONResponse({"error": exc.message, "fix": exc.fix}, exc.http_status)

    app.include_router(api.router)
    app.include_router(pages.router)
    return app
