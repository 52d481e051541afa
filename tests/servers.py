"""Real servers on loopback: SMTP (aiosmtpd), an SMS gateway, an OpenID Connect provider."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, quote

import requests
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class ReceivedMail:
    sender: str
    recipients: list[str]
    message: Message

    @property
    def text(self) -> str:
        part = self.message.get_payload(decode=True)
        assert isinstance(part, bytes)
        return part.decode(self.message.get_content_charset() or "utf-8")


@dataclass
class SmtpServer:
    """An SMTP server that keeps what it receives in `mails`."""

    port: int = field(default_factory=free_port)
    mails: list[ReceivedMail] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or b""
        self.mails.append(
            ReceivedMail(
                sender=str(envelope.mail_from),
                recipients=list(envelope.rcpt_tos),
                message=message_from_bytes(content),
            )
        )
        return "250 Message accepted for delivery"

    def start(self) -> None:
        self.controller.start()

    def stop(self) -> None:
        self.controller.stop()


@dataclass
class SmsRequest:
    headers: dict[str, str]
    payload: dict[str, Any]


class SmsGateway:
    """An HTTP SMS gateway on loopback: answers `status` after `delay` seconds and records
    each request."""

    def __init__(self) -> None:
        self.requests: list[SmsRequest] = []
        self.status = 200
        self.delay = 0.0
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                gateway.requests.append(
                    SmsRequest(headers=dict(self.headers.items()), payload=json.loads(body))
                )
                time.sleep(gateway.delay)
                try:
                    self.send_response(gateway.status)
                    self.send_header("Content-Type", "application/json")
                    self.end_headers()
                    self.wfile.write(b'{"id": "msg-1"}')
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up waiting (a timeout test)

            def log_message(self, format: str, *args: Any) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/sms"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class OidcProvider:
    """A real OpenID Connect provider process (oidc-provider-mock) on a loopback port:
    the stand-in for LuxTrust. `add_user` gives a subject its claims; `authorize` plays the
    person at the provider's login form and returns where the provider sends the browser."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "oidc_provider_mock",
                "--port",
                str(self.port),
                "--require-nonce",
                "true",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                if requests.get(self.url + "/.well-known/openid-configuration", timeout=1).ok:
                    return
            except requests.ConnectionError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("oidc-provider-mock did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None

    def add_user(self, subject: str, **claims: Any) -> None:
        response = requests.put(f"{self.url}/users/{quote(subject)}", json=claims, timeout=5)
        response.raise_for_status()

    def authorize(self, authorize_url: str, subject: str | None, *, deny: bool = False) -> str:
        """Submit the provider's form for `subject` (or deny); the redirect back to us."""
        data = {"action": "deny"} if deny else {"sub": subject or ""}
        response = requests.post(authorize_url, data=data, allow_redirects=False, timeout=5)
        assert response.status_code in (302, 303), response.text[:300]
        return str(response.headers["Location"])

    def provider_setting(self, **overrides: Any) -> dict[str, Any]:
        return {
            "slug": "luxtrust",
            "name": "LuxTrust",
            "issuer": self.url,
            "client_id": "esante-test",
            "client_secret": "test-secret",
            "scopes": "openid profile",
            "national_id_claim": "matricule",
            **overrides,
        }


class LogoutReceiver:
    """A service's back-channel logout endpoint on loopback: records each `logout_token`
    posted to it (OpenID Connect Back-Channel Logout 1.0) and answers 200."""

    def __init__(self) -> None:
        self.tokens: list[str] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                form = parse_qs(self.rfile.read(length).decode())
                receiver.tokens.extend(form.get("logout_token", []))
                self.send_response(200)
                self.send_header("Cache-Control", "no-store")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/backchannel-logout"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def wait_for(self, count: int, seconds: float = 5) -> list[str]:
        deadline = time.monotonic() + seconds
        while len(self.tokens) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return list(self.tokens)
