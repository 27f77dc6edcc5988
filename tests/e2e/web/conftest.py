"""Fixtures of the web page tests, found by name: the queue tests' Redis and workers, the
API over them, and the page kit's browser and pages."""

from __future__ import annotations

from tests.e2e import http_fixtures
from tests.e2e.web import kit
from tests.integration import conftest as queue_fixtures

redis_server = queue_fixtures.redis_server
queue_env = queue_fixtures.queue_env
api_server = http_fixtures.api_server
browser = kit.browser
open_page = kit.open_page
