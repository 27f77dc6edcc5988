"""The web page at ``/``: sign in with a key, upload, review and erase, in a browser.

Hand-written files from ``redactor/http/static/``: ``index.html``, ES modules (``app.js``
and the small modules it imports) and style sheets (``app.css``, ``findings.css``,
``dialogs.css``); no build step. Every page response carries a strict
Content-Security-Policy: scripts, styles and requests only to this origin, images from
this origin or the ``blob:`` URLs the page makes from results it fetched, no inline
script, no framing. The page keeps the API key
in the browser session only (``sessionStorage``), never in a cookie or a URL.

The files are read once, when the router is built, and only those names are served:
a request can never turn into a file path. The page's option lists (text policies,
colour-profile modes, redaction styles) are filled in then from the same registries the
options model validates against (``<!-- options: NAME -->`` in ``index.html``), so the
page never offers a value the API would refuse.
"""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import get_args

from fastapi import APIRouter, HTTPException, Response, status

from redactor.options import IccMode, TextPolicy
from redactor.styles import STYLES

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "img-src 'self' blob: data:",
        "script-src 'self'",
        "style-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}
MEDIA_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
}


#: How the page names the values; the values themselves come from the registries.
_TEXT_LABELS = {"pii": "Personal text", "all": "All text", "off": "No text"}
_ICC_LABELS = {
    "sanitise": "Keep colours, remove its text",
    "keep": "Keep its own colour data, remove its text",
    "drop": "Remove",
}


def option_lists() -> dict[str, list[tuple[str, str]]]:
    """``list name -> [(value, label)]`` for the page's option lists."""
    return {
        "text": [(value, _TEXT_LABELS.get(value, value)) for value in get_args(TextPolicy)],
        "icc": [(value, _ICC_LABELS.get(value, value)) for value in get_args(IccMode)],
        "styles": [(name, style.label) for name, style in STYLES.items()],
    }


_PLACEHOLDER = re.compile(r"^( *)<!-- options: (\w+) -->$", re.MULTILINE)


def render_page(page: str) -> str:
    """``index.html`` with each ``<!-- options: NAME -->`` line replaced by its options."""
    lists = option_lists()

    def options(match: re.Match[str]) -> str:
        indent, name = match.groups()
        return "\n".join(
            f'{indent}<option value="{html.escape(value)}">{html.escape(label)}</option>'
            for value, label in lists[name]
        )

    return _PLACEHOLDER.sub(options, page)


def static_files(folder: Path = STATIC_DIR) -> dict[str, tuple[bytes, str]]:
    """``name -> (bytes, media type)`` for every servable file directly in ``folder``."""
    files = {
        path.name: (path.read_bytes(), MEDIA_TYPES[path.suffix])
        for path in sorted(folder.iterdir())
        if path.is_file() and path.suffix in MEDIA_TYPES
    }
    if "index.html" in files:
        page, media_type = files["index.html"]
        files["index.html"] = (render_page(page.decode()).encode(), media_type)
    return files


def page_router(folder: Path = STATIC_DIR) -> APIRouter:
    """``GET /`` (the page) and ``GET /static/{name}`` (its scripts, styles and icon)."""
    files = static_files(folder)
    router = APIRouter(include_in_schema=False)

    def answer(name: str) -> Response:
        if name not in files:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "no such file")
        content, media_type = files[name]
        return Response(content, media_type=media_type, headers=SECURITY_HEADERS)

    @router.get("/")
    async def index() -> Response:
        return answer("index.html")

    @router.get("/static/{name}")
    async def static(name: str) -> Response:
        return answer(name)

    return router
