"""The record page's templates, this tree's against an earlier commit's, in one process.

    .venv/bin/python bench/record_templates.py --against a30f0dc --renders 2000 --rounds 3

Logs a seeded patient in (as bench/budget.py does), requests *Mon DSP* once and keeps
the context the view rendered the page with; then renders that same page, alternately,
through this tree's templates (`records/record_content.jinja` through Jinja2, then the
Django frame around it, as `render_record` does) and through the earlier commit's Django
`records/record.html` and `records/assistants.html` (taken with `git show`, in a directory
searched first), and prints the CPU per render of each, the Jinja2 content and the Django
frame apart. Both print the same page (checked, the CSRF tokens aside). Between two
processes this machine's speed drifts by more than the difference measured here: the
two are compared within one.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import budget, webserver

TEMPLATES = ("records/record.html", "records/assistants.html")
CSRF = re.compile(r'value="[A-Za-z0-9]{64}"')


def earlier_templates(commit: str, directory: Path) -> None:
    """The earlier commit's record page, as records/record_before.html (its include
    records/assistants.html beside it)."""
    project = Path(__file__).resolve().parent.parent
    for name in TEMPLATES:
        text = subprocess.run(
            ["git", "-C", str(project), "show", f"{commit}:src/esante/records/templates/{name}"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        target = directory / (name.replace("record.html", "record_before.html"))
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")


def cpu_per_call(function: Callable[[], Any], calls: int) -> float:
    for _ in range(calls // 10):  # warm
        function()
    started = time.thread_time()
    for _ in range(calls):
        function()
    return (time.thread_time() - started) / calls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--against", default="a30f0dc", help="the earlier commit")
    parser.add_argument("--renders", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    options = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="esante-bench-templates-"))
    try:
        earlier_templates(options.against, workdir / "templates")
        with webserver.own_database(f"bench_templates_{os.getpid()}") as database_url:
            environment = webserver.server_environment(database_url, workdir, demo=True)
            try:
                webserver.set_up_django(environment)
                measure(workdir / "templates", options.renders, options.rounds)
            finally:
                webserver.forget_redis_keys(environment)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def measure(earlier: Path, renders: int, rounds: int) -> None:
    from django.template import engines
    from django.utils import translation
    from django.utils.safestring import mark_safe

    from esante.records import views

    kept: dict[str, Any] = {}
    render = vars(views)["render"]

    def keep(request: Any, name: str, context: dict[str, Any], **kwargs: Any) -> Any:
        kept.update(request=request, context=dict(context))
        return render(request, name, context, **kwargs)

    vars(views)["render"] = keep
    patient = webserver.seed_patients(1)[0]
    steps = {name: budget.Step(name) for name in budget.LOGIN_STEPS}
    client = budget.log_in(patient, steps, budget.Timers(), budget.Counters(), parts=False)
    client.get(client.get("/mon-dsp/")["Location"])
    vars(views)["render"] = render
    request, context = kept["request"], kept["context"]

    django = engines["django"]
    django.engine.dirs = [str(earlier), *django.engine.dirs]  # type: ignore[attr-defined]
    before = django.get_template("records/record_before.html")
    frame = django.get_template("records/record.html")
    content = engines["jinja2"].get_template("records/record_content.jinja")

    def now() -> str:
        page = dict(context, content=mark_safe(content.render(dict(context), request)))  # noqa: S308
        return frame.render(page, request)

    translation.activate("fr")
    assert CSRF.sub("", now()) == CSRF.sub("", before.render(dict(context), request))
    print("The record page of a seeded patient (French), CPU per render, ms:")
    print(f"{'round':<8}{'before':>10}{'now':>10}{'content':>10}{'frame':>10}")
    for number in range(rounds):
        print(
            f"{number + 1:<8}"
            f"{cpu_per_call(lambda: before.render(dict(context), request), renders) * 1000:>10.3f}"
            f"{cpu_per_call(now, renders) * 1000:>10.3f}"
            f"{cpu_per_call(lambda: content.render(dict(context), request), renders) * 1000:>10.3f}"
            f"{cpu_per_call(lambda: frame.render(context, request), renders) * 1000:>10.3f}"
        )


if __name__ == "__main__":
    main()
