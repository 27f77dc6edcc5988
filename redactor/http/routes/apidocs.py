"""``/docs``: Swagger UI from files in the package, only when ``REDACTOR_API_DOCS=true``.

FastAPI's own ``/docs`` and ``/redoc`` load their scripts from a CDN, with no integrity
check, on the origin whose web page keeps an API key in ``sessionStorage``; offline
they do not work at all. Here the Swagger UI files ship in
``redactor/http/swagger/`` (see its README), are read once when the router is
built, and are served under a Content-Security-Policy that allows this origin only.
ReDoc is not offered: one viewer of ``/openapi.json`` is enough.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, HTTPException, Response, status

from redactor.http.routes.page import MEDIA_TYPES

DOCS_DIR = Path(__file__).resolve().parent.parent / "swagger"
#: The page, its scripts and its style sheet; nothing else is served from the folder.
FILES = ("docs.html", "docs.js", "swagger-ui-bundle.js", "swagger-ui.css")

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    )
)
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}


def docs_router(folder: Path = DOCS_DIR) -> APIRouter:
    """``GET /docs`` and ``GET /docs/{name}`` for the files in :data:`FILES`."""
    files = {name: (folder / name).read_bytes() for name in FILES}
    router = APIRouter(include_in_schema=False)

    def answer(name: str) -> Response:
        if name not in files:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "no such file")
        media_type = MEDIA_TYPES[Path(name).suffix]
        return Response(files[name], media_type=media_type, headers=HEADERS)

    @router.get("/docs")
    async def page() -> Response:
        return answer("docs.html")

    @router.get("/docs/{name}")
    async def asset(name: str) -> Response:
        return answer(name)

    return router
