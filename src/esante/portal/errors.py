"""The 500 handler: an outage of the database or of Redis is a 503 "try again in a few
minutes" page (with Retry-After), any other error the 500 page. Both are rendered
without the request (no context processor may touch what is down)."""

from __future__ import annotations

import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, HttpResponseServerError
from django.template import loader

try:  # Redis is optional (REDIS_URL)
    from django_redis.exceptions import ConnectionInterrupted
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import TimeoutError as RedisTimeoutError

    REDIS_OUTAGES: tuple[type[BaseException], ...] = (
        ConnectionInterrupted,
        RedisConnectionError,
        RedisTimeoutError,
    )
except ImportError:  # pragma: no cover - django-redis is a dependency
    REDIS_OUTAGES = ()

OUTAGES: tuple[type[BaseException], ...] = (OperationalError, InterfaceError, *REDIS_OUTAGES)
RETRY_AFTER_SECONDS = 60


def is_outage(error: BaseException | None) -> bool:
    """The database or Redis out of reach, here or at the root of the error (a DataError
    or an IntegrityError is a bug of ours, never an outage)."""
    while error is not None:
        if isinstance(error, OUTAGES):
            return True
        error = error.__cause__ or error.__context__
    return False


def server_error(request: HttpRequest) -> HttpResponse:
    if is_outage(sys.exc_info()[1]):
        response = HttpResponse(loader.get_template("503.html").render(), status=503)
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
    return HttpResponseServerError(loader.get_template("500.html").render())
