"""``/docs`` in a real browser: Swagger UI from the package, nothing from elsewhere.

``redactor serve`` with ``REDACTOR_API_DOCS=true`` (the viewer is off by default), over
the queue tests' Redis; Debian's Chromium through Playwright. The page must render
every operation of the schema under its Content-Security-Policy without one blocked
load, and make no request outside its own origin (it works offline).
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import ConsoleMessage, expect

from testkit.services import ApiServer, QueueEnv, server_variables
from tests.e2e.web.kit import browser
from tests.integration import conftest as queue_fixtures

pytestmark = [pytest.mark.redis, pytest.mark.slow]

redis_server = queue_fixtures.redis_server
queue_env = queue_fixtures.queue_env
__all__ = ["browser"]


@pytest.fixture(scope="module")
def docs_server(queue_env: QueueEnv) -> Iterator[ApiServer]:
    server = ApiServer(
        server_variables(queue_env, api_docs="true"), queue_env.root / "api-docs.log"
    )
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.mark.timeout(120)
def test_given_docs_enabled_then_swagger_ui_renders_from_this_origin_only(
    browser: object, docs_server: ApiServer
) -> None:
    operations = sum(
        len(methods)
        for methods in httpx.get(f"{docs_server.url}/openapi.json").json()["paths"].values()
    )
    context = browser.new_context()  # type: ignore[attr-defined]
    page = context.new_page()
    requests: list[str] = []
    problems: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.on(
        "response", lambda answer: answer.ok or problems.append(f"{answer.status} {answer.url}")
    )
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))

    def console(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text or message.type == "error":
            problems.append(message.text)

    page.on("console", console)
    try:
        page.goto(f"{docs_server.url}/docs")
        expect(page.locator(".opblock")).to_have_count(operations, timeout=60_000)
        expect(page.locator(".information-container .title")).to_contain_text("redactor")
    finally:
        context.close()
    assert problems == []
    own = (f"{docs_server.url}/", "data:")
    assert [url for url in requests if not url.startswith(own)] == []
    assert f"{docs_server.url}/openapi.json" in requests
