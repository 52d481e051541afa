"""Settings of the web benchmarks (bench/login.py, bench/record_page.py), never deployed.

Production's settings, read from the environment as always, with one difference: the
URLconf adds a trivial logged-in page (bench/urls.py), the baseline of the record page.
"""

from __future__ import annotations

from esante.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
