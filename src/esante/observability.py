"""What operations need from every app node: a request id on every request and log line,
structured JSON logs, and the health endpoints a load balancer polls.

- `/healthz`: the process answers (no dependency checked): restart it if not.
- `/readyz`: the database and the cache (Redis in production) answer: send it traffic.

Log lines never carry secrets: codes, passwords and keys are never passed to a logger,
and the JSON formatter writes only the record's message and a few known fields.
"""

from __future__ import annotations

import contextvars
import datetime
import json
import logging
import re
import uuid
from collections.abc import Callable

from django.core.cache import cache
from django.core.signals import request_finished
from django.db import connection
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")

# A load balancer's id is kept when it looks like one (no room for log injection).
_VALID_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


class RequestIdMiddleware:
    """Takes the load balancer's X-Request-ID (or makes one), sets it for the logs and
    returns it on the response, so that one request can be followed across nodes."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get("X-Request-ID", "")
        current = incoming if _VALID_ID.match(incoming) else uuid.uuid4().hex
        # Kept until the response is closed (request_finished), not reset here: Django's
        # own "Not Found: …" lines and the deliveries after the response are the
        # request's too, and come after this middleware has returned.
        request_id.set(current)
        response = self.get_response(request)
        response["X-Request-ID"] = current
        return response


@receiver(request_finished)
def _forget_request_id(**kwargs: object) -> None:
    request_id.set("-")


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, request id, message (and the
    exception's traceback when there is one)."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.datetime.fromtimestamp(record.created, tz=datetime.UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "request_id": getattr(record, "request_id", "-"),
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


@never_cache
@require_GET
def healthz(request: HttpRequest) -> HttpResponse:
    return JsonResponse({"status": "ok"})


@never_cache
@require_GET
def readyz(request: HttpRequest) -> HttpResponse:
    checks: dict[str, str] = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        checks["database"] = "ok"
    except Exception:
        logging.getLogger(__name__).exception("readyz: the database does not answer")
        checks["database"] = "unavailable"
    try:
        probe = f"readyz:{uuid.uuid4().hex}"
        cache.set(probe, "1", timeout=5)
        checks["cache"] = "ok" if cache.get(probe) == "1" else "unavailable"
        cache.delete(probe)
    except Exception:
        logging.getLogger(__name__).exception("readyz: the cache does not answer")
        checks["cache"] = "unavailable"
    ready = all(state == "ok" for state in checks.values())
    return JsonResponse(
        {"status": "ok" if ready else "unavailable", **checks}, status=200 if ready else 503
    )
