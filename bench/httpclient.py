"""A lean HTTP/1.1 client for the web benchmarks: one browser session per object.

The load generator shares the machine's two cores with the server it measures, so it
must cost as little as possible: plain asyncio streams, keep-alive, no redirects or
content decoding, a cookie jar that keeps name=value and nothing else (the portal's
cookies are `Secure`; the client speaks plain HTTP to gunicorn and says, as the TLS proxy
in front of production does, that the visitor used HTTPS: `X-Forwarded-Proto`).

Each session connects from its own loopback address (127.x.y.z, all local on Linux), so
that the server sees as many visitors as there are sessions: the per-IP rate limits then
apply as they would to real patients, without being raised.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from dataclasses import dataclass
from urllib.parse import urlencode

CSRF_FIELD = re.compile(rb'name="csrfmiddlewaretoken" value="([^"]+)"')


@dataclass(frozen=True)
class Response:
    status: int
    headers: dict[str, str]  # lower-case names; the last value of a repeated header
    body: bytes

    @property
    def location(self) -> str:
        return self.headers.get("location", "")

    def csrf_token(self) -> str:
        found = CSRF_FIELD.search(self.body)
        if found is None:
            raise AssertionError(f"no CSRF token in a {self.status} page")
        return found.group(1).decode()


def loopback_address(number: int) -> str:
    """The `number`-th distinct loopback address, from 127.1.0.1 up."""
    return f"127.{1 + number // 62500}.{number // 250 % 250}.{number % 250 + 1}"


class Session:
    """One browser: its cookies, its source address, one keep-alive connection."""

    def __init__(
        self,
        port: int,
        source_address: str,
        cookies: dict[str, str] | None = None,
        *,
        https: bool = True,
    ):
        self.port = port
        # Behind the TLS proxy (production's settings), or plain HTTP (demo mode's).
        self.scheme = "https" if https else "http"
        self.source_address = source_address
        self.cookies = dict(cookies or {})
        self.host = f"127.0.0.1:{port}"
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def get(self, path: str, headers: dict[str, str] | None = None) -> Response:
        return await self.request("GET", path, headers=headers)

    async def post(self, path: str, form: dict[str, str]) -> Response:
        return await self.request("POST", path, urlencode(form).encode())

    async def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        *,
        headers: dict[str, str] | None = None,
    ) -> Response:
        """`headers`: more request headers (an API client's Authorization, Accept)."""
        head = [
            f"{method} {path} HTTP/1.1",
            f"Host: {self.host}",
            *(["X-Forwarded-Proto: https"] if self.scheme == "https" else []),
            "User-Agent: esante-bench",
            "Accept-Language: fr",
            *(f"{name}: {value}" for name, value in (headers or {}).items()),
        ]
        if self.cookies:
            head.append("Cookie: " + "; ".join(f"{k}={v}" for k, v in self.cookies.items()))
        if body is not None:
            head += [
                f"Origin: {self.scheme}://{self.host}",
                "Content-Type: application/x-www-form-urlencoded",
                f"Content-Length: {len(body)}",
            ]
        data = ("\r\n".join(head) + "\r\n\r\n").encode() + (body or b"")
        for attempt in (1, 2):
            reused = self._writer is not None
            reader, writer = await self._connection()
            try:
                writer.write(data)
                response = await self._read_response(reader)
                break
            except (ConnectionError, asyncio.IncompleteReadError):
                await self.close()
                if not reused or attempt == 2:  # only a kept-alive connection may go stale
                    raise
        if response.headers.get("connection", "").lower() == "close":
            await self.close()
        return response

    async def close(self) -> None:
        writer, self._reader, self._writer = self._writer, None, None
        if writer is not None:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()

    async def _connection(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        if self._reader is None or self._writer is None:
            self._reader, self._writer = await asyncio.open_connection(
                "127.0.0.1", self.port, local_addr=(self.source_address, 0)
            )
        return self._reader, self._writer

    async def _read_response(self, reader: asyncio.StreamReader) -> Response:
        status_line, *lines = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
        headers: dict[str, str] = {}
        for line in lines:
            if not line:
                continue
            name, _, value = line.partition(":")
            name, value = name.strip().lower(), value.strip()
            headers[name] = value
            if name == "set-cookie":
                self._keep_cookie(value)
        if headers.get("transfer-encoding", "").lower() == "chunked":
            body = await self._read_chunks(reader)
        else:
            body = await reader.readexactly(int(headers.get("content-length", "0")))
        return Response(int(status_line.split(" ", 2)[1]), headers, body)

    @staticmethod
    async def _read_chunks(reader: asyncio.StreamReader) -> bytes:
        parts = []
        while size := int((await reader.readuntil(b"\r\n")).split(b";")[0], 16):
            parts.append(await reader.readexactly(size))
            await reader.readexactly(2)
        await reader.readuntil(b"\r\n")
        return b"".join(parts)

    def _keep_cookie(self, header: str) -> None:
        pair, _, attributes = header.partition(";")
        name, _, value = pair.partition("=")
        name, value = name.strip(), value.strip()  # quotes and all, sent back as received
        if not value or "max-age=0" in attributes.lower().replace(" ", ""):
            self.cookies.pop(name, None)  # a deleted cookie
        else:
            self.cookies[name] = value
