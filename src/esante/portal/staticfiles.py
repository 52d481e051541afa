"""The static files' storage in production: whitenoise's (hashed names from the
manifest, compressed copies), each URL worked out once per process.

Every page asks `{% static %}` for the same few URLs (the stylesheet, the scripts, the
logo and icon: five to eight a page), and each answer is the same for as long as the
process runs: the manifest is read when the storage is made and only changes with a new
`collectstatic`, whose post-processing forgets the URLs. Working one out costs about
20 µs (parsing the name, the manifest's lookup, joining it to STATIC_URL): issue 16's
profile of the login and record pages.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from whitenoise.storage import CompressedManifestStaticFilesStorage


class StaticFilesStorage(CompressedManifestStaticFilesStorage):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._urls: dict[str, str] = {}

    def url(self, name: str | None, force: bool = False) -> str:
        if force or name is None:
            return str(super().url(name, force))
        try:
            return self._urls[name]
        except KeyError:
            url = self._urls[name] = str(super().url(name))
            return url

    def post_process(self, *args: Any, **kwargs: Any) -> Iterator[Any]:
        self._urls.clear()
        yield from super().post_process(*args, **kwargs)
        self._urls.clear()
