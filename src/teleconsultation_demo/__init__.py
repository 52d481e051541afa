"""« Téléconsultation (démo) »: a partner's service that logs people in with eSanté.

The platform is an OpenID Connect provider; this small Flask service is the relying party
a partner would write, on a maintained client library (Authlib), so that the demo shows
the whole exchange from the other side: the authorization code flow with PKCE, the ID
token's assurance level (`acr`, `amr`), the pairwise subject, an assistant acting for
someone (`act`), RP-initiated logout and Back-Channel Logout. It runs in its own process,
imports neither Django nor `esante`, and keeps everything in memory: a restart logs
everybody out.

`python -m teleconsultation_demo` serves it on 127.0.0.1, configured by:

- `TELECONSULTATION_ISSUER` (required): the platform's issuer URL, e.g.
  http://localhost:8000; its discovery document is ISSUER/.well-known/openid-configuration.
- `TELECONSULTATION_CLIENT_ID`, `TELECONSULTATION_CLIENT_SECRET` (required): this
  service's registration at the platform.
- `TELECONSULTATION_PORT`: the port to listen on, 8002 by default.
- `TELECONSULTATION_BASE_URL`: where browsers reach the service, http://localhost:PORT by
  default; a page asked for under another host name (127.0.0.1) is redirected there, so a
  proxy in front must pass the Host header on. The platform must know BASE_URL/retour
  (redirect URI), BASE_URL/au-revoir (post-logout redirect URI) and
  BASE_URL/backchannel-logout (back-channel logout URI).
- `TELECONSULTATION_SECRET_KEY`: signs the Flask session cookie; random at each start
  when unset, which costs nothing since the sessions do not outlive the process either.

Tests and other programs build the service with `create_app(config)`.
"""

from __future__ import annotations

from teleconsultation_demo.app import create_app
from teleconsultation_demo.config import Config

__all__ = ["Config", "create_app"]
