"""The session's real API server (:class:`testkit.services.ApiServer`, ``redactor serve``
in a subprocess on a free loopback port) over the queue tests' real Redis and workers."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from testkit.services import ApiServer, QueueEnv, server_variables


@pytest.fixture(scope="session")
def api_server(queue_env: QueueEnv) -> Iterator[ApiServer]:
    """The API over the session's Redis and two workers."""
    (queue_env.root / "storage").mkdir(parents=True, exist_ok=True)
    server = ApiServer(server_variables(queue_env), queue_env.root / "api.log")
    try:
        server.start()
        yield server
    finally:
        server.stop()
