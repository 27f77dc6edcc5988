"""Everything a request handler needs, built once by :func:`create_app`."""

from __future__ import annotations

from dataclasses import dataclass

import redis

from redactor.http.auth import KeyStore
from redactor.http.limits import RateLimiter
from redactor.http.metrics import ApiMetrics
from redactor.http.settings import ServerSettings
from redactor.service.client import RedactorClient


@dataclass(frozen=True)
class ApiContext:
    settings: ServerSettings
    #: Submission, status and results: the same client other services use.
    client: RedactorClient
    #: The client's Redis connection, for keys, rate limits, queue depth and listings.
    redis: redis.Redis
    keys: KeyStore
    rate_limiter: RateLimiter
    metrics: ApiMetrics
