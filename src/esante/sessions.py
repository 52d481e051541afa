"""Sessions in Redis (SESSION_ENGINE when REDIS_URL is set).

Django's cache sessions read an unreachable cache as an empty session: for memcache's
sake, `load()` swallows every exception. Here that would log everyone out during a Redis
outage, and send a half-way activation back to its start, while the sessions are still
in Redis, intact, for when it is back. An outage is raised instead: the 503 page
(esante.portal.errors), and the session is there again once Redis answers.
"""

from __future__ import annotations

from typing import Any

from django.contrib.sessions.backends.cache import SessionStore as CacheSessionStore
from django.core.cache.backends.base import BaseCache


class SessionStore(CacheSessionStore):
    _cache: BaseCache  # set by Django's __init__, unknown to its type stubs

    def load(self) -> dict[str, Any]:
        session_data = self._cache.get(self.cache_key)  # an outage propagates
        if session_data is not None:
            return session_data  # type: ignore[no-any-return]
        self._session_key = None
        return {}

    async def aload(self) -> dict[str, Any]:
        session_data = await self._cache.aget(await self.acache_key())
        if session_data is not None:
            return session_data  # type: ignore[no-any-return]
        self._session_key = None
        return {}
