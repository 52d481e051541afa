"""`python -m esante.demo.run_identity_provider ARGS`: oidc-provider-mock, as `python -m
oidc_provider_mock ARGS` runs it, for `make run`'s "LuxTrust (démo)"
(esante.demo.identity_provider), with only the start-up lines a newcomer needs.

Left out: the deprecation warnings of authlib's `jose` and `httpx` modules, which the mock
imports (authlib turns its own warnings to "always" when imported, so a `-W` option
cannot), and uvicorn's INFO lines ("Uvicorn running on http://127.0.0.1:…", while the
demo prints localhost). Its warnings and errors, and its access log, still show.
"""

from __future__ import annotations

import logging
import runpy
import warnings

from authlib.deprecate import AuthlibDeprecationWarning

# After authlib's own "always" filter (imported just above), so in front of it.
for message in ("authlib.jose module is deprecated", "The httpx module is deprecated"):
    warnings.filterwarnings("ignore", message=message, category=AuthlibDeprecationWarning)
logging.getLogger("uvicorn.error").setLevel(logging.WARNING)

if __name__ == "__main__":
    runpy.run_module("oidc_provider_mock", run_name="__main__", alter_sys=True)
