"""`python -m teleconsultation_demo`: serve the demo service on 127.0.0.1 (see the
package's docstring for its environment variables)."""

from __future__ import annotations

import logging
import os
import sys

from werkzeug.serving import run_simple

from teleconsultation_demo.app import create_app
from teleconsultation_demo.config import ConfigurationError, config_from_environment


def main() -> None:
    # Warnings and errors only: `make run` prints the service's address itself, and a
    # newcomer reads its start-up output (werkzeug's banner and request lines are INFO).
    level = os.environ.get("TELECONSULTATION_LOG_LEVEL", "WARNING")
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    # werkzeug sets its own logger to INFO when it finds it unset.
    logging.getLogger("werkzeug").setLevel(level)
    try:
        config, port = config_from_environment(os.environ)
    except ConfigurationError as error:
        sys.exit(f"Téléconsultation (démo): {error}")
    logging.getLogger(__name__).info("Téléconsultation (démo): %s", config["base_url"])
    # Threaded: a login waits on the platform (token, userinfo), which must not hold up
    # the other browsers nor the platform's back-channel logouts.
    run_simple("127.0.0.1", port, create_app(config), threaded=True)


if __name__ == "__main__":
    main()
