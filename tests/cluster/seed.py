"""Run in the cluster's environment (`python -m tests.cluster.seed COUNT`): COUNT new
people, each with an activation letter; prints their matricules and letter codes as JSON.

The test process cannot use the cluster's database through Django (pytest-django owns
its connections), so the people are made here, with the platform's own code.
"""

from __future__ import annotations

import json
import os
import sys


def main(count: int) -> None:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "esante.settings")
    django.setup()
    from esante.registry.letters import issue_letters
    from tests.accounts.wizard import letter_code_of
    from tests.factories import make_person, years_ago

    people = [
        make_person("Patient", f"Cluster{index}", years_ago(20 + index)) for index in range(count)
    ]
    issue_letters(people, actor="test")
    print(
        json.dumps(
            [
                {"matricule": person.matricule, "letter_code": letter_code_of(person)}
                for person in people
            ]
        )
    )


if __name__ == "__main__":
    main(int(sys.argv[1]))
