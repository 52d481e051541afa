"""A browser over HTTP (requests): one cookie jar, sent to whichever node it is told.

Both nodes are 127.0.0.1 on different ports; cookies are bound to the host, not the
port, so the same jar is sent to node A and to node B, as a load balancer's client's
would be.
"""

from __future__ import annotations

import re

import requests

from tests.cluster.harness import Cluster, Person

PASSWORD = "Soleil d'hiver 2024"
ONE_TIME_CODE = re.compile(r"\b\d{6}\b")
CAPTCHA = {"captcha_0": "x", "captcha_1": "PASSED"}  # test mode: PASSED answers
TIMEOUT = 60


class Browser:
    def __init__(self, cookies: requests.cookies.RequestsCookieJar | None = None):
        self.http = requests.Session()
        if cookies is not None:
            self.http.cookies.update(cookies)

    def clone(self) -> Browser:
        """The same cookies in another client: a second tab, for requests sent at once."""
        return Browser(self.http.cookies.copy())

    def cookie(self, name: str) -> str:
        return self.http.cookies.get(name) or ""

    def get(self, node: str, path: str) -> requests.Response:
        return self.http.get(node + path, allow_redirects=False, timeout=TIMEOUT)

    def post(self, node: str, path: str, data: dict[str, str]) -> requests.Response:
        if not self.cookie("csrftoken"):
            self.get(node, "/connexion/patient/")  # a page with a form sets the CSRF cookie
        return self.http.post(
            node + path,
            data={"csrfmiddlewaretoken": self.cookie("csrftoken"), **data},
            headers={"Origin": node, "Referer": node + path},
            allow_redirects=False,
            timeout=TIMEOUT,
        )


class TlsBrowser(Browser):
    """A browser behind a TLS-terminating load balancer, for nodes in production mode
    (DEBUG off, SECURE_PROXY_SSL_HEADER): it says https, as the balancer does, and sends
    the cookies that are Secure, as a browser on https would."""

    def __init__(self, cookies: requests.cookies.RequestsCookieJar | None = None):
        super().__init__(cookies)
        self.http.headers["X-Forwarded-Proto"] = "https"

    def clone(self) -> TlsBrowser:
        return TlsBrowser(self.http.cookies.copy())

    def get(self, node: str, path: str) -> requests.Response:
        response = super().get(node, path)
        self._send_secure_cookies()
        return response

    def post(self, node: str, path: str, data: dict[str, str]) -> requests.Response:
        if not self.cookie("csrftoken"):
            self.get(node, "/connexion/patient/")
        origin = node.replace("http://", "https://", 1)
        response = self.http.post(
            node + path,
            data={"csrfmiddlewaretoken": self.cookie("csrftoken"), **data},
            headers={"Origin": origin, "Referer": origin + path},
            allow_redirects=False,
            timeout=TIMEOUT,
        )
        self._send_secure_cookies()
        return response

    def _send_secure_cookies(self) -> None:
        for cookie in self.http.cookies:
            cookie.secure = False  # requests sends Secure cookies only to https:// URLs


def location(response: requests.Response) -> str:
    return response.headers.get("Location", "")


def last_one_time_code(cluster: Cluster, destination: str) -> str:
    rows = cluster.query(
        "SELECT body FROM notifications_outboundmessage WHERE recipient = %s "
        "ORDER BY id DESC LIMIT 1",
        destination,
    )
    assert rows, f"no message to {destination}"
    found = ONE_TIME_CODE.search(rows[0][0])
    assert found, rows[0][0]
    return found.group()


def reach_one_time_code_step(
    browser: Browser, nodes: list[str], person: Person, email: str | None = None
) -> None:
    """Activation steps up to the one-time code, step i on nodes[i % len(nodes)]."""
    steps: list[tuple[str, dict[str, str], str]] = [
        ("/activation/commencer/", {"accept_cgu": "on"}, "/activation/etape-1/"),
        (
            "/activation/etape-1/",
            {"matricule": person.matricule, "code": person.letter_code, **CAPTCHA},
            "/activation/etape-2/",
        ),
        (
            "/activation/etape-2/",
            {"password1": PASSWORD, "password2": PASSWORD},
            "/activation/etape-3/",
        ),
        (
            "/activation/etape-3/",
            {"channel": "email", "email": email or person.email},
            "/activation/etape-3/code/",
        ),
    ]
    for index, (path, data, then) in enumerate(steps):
        response = browser.post(nodes[index % len(nodes)], path, data)
        assert (response.status_code, location(response)) == (302, then), (
            path,
            response.status_code,
            response.text[:2000],
        )


def activate(cluster: Cluster, person: Person, browser: Browser | None = None) -> None:
    """The whole activation, its steps spread over both nodes."""
    browser = browser or Browser()
    reach_one_time_code_step(browser, cluster.nodes, person)
    code = last_one_time_code(cluster, person.email)
    response = browser.post(cluster.a, "/activation/etape-3/code/", {"code": code})
    assert location(response) == "/activation/etape-4/", response.text[:2000]


def submit_password(
    browser: Browser, node: str, person: Person, password: str = PASSWORD
) -> requests.Response:
    return browser.post(
        node,
        "/connexion/patient/",
        {"matricule": person.matricule, "password": password, **CAPTCHA},
    )


def log_in(
    cluster: Cluster, browser: Browser, person: Person, password_on: str, code_on: str
) -> None:
    response = submit_password(browser, password_on, person)
    assert location(response) == "/connexion/patient/code/", response.text[:2000]
    code = last_one_time_code(cluster, person.email)
    done = browser.post(code_on, "/connexion/patient/code/", {"code": code})
    assert location(done) == "/mes-services/", done.text[:2000]
