"""Views parse, act, respond (STYLE.md §2, §3): every state change goes through a named
action, which is atomic and writes its audit event. This reads every views module of the
project and refuses a write made in one: a model or form saved or deleted, a queryset
created, updated or deleted, an audit event written."""

from __future__ import annotations

import ast
from pathlib import Path

import esante

PACKAGE = Path(esante.__file__).parent

# Always a write, whatever the receiver.
WRITES = {"create", "get_or_create", "update_or_create", "bulk_create", "bulk_update", "delete"}
# A write unless its first argument is the request: a Flow keeps its state in the session
# (`ACTIVATION.save(request, state)`), a model or a form never takes the request.
SAVES = {"save"}
# The audit log is written by actions only (esante.audit.actions.record_event).
AUDIT = "record_event"


def _name(call: ast.Call) -> str | None:
    if isinstance(call.func, ast.Attribute):
        return call.func.attr
    if isinstance(call.func, ast.Name):
        return call.func.id
    return None


def _is_queryset_update(call: ast.Call) -> bool:
    """`.update(...)` on a queryset (`Model.objects….update`, `….filter(…).update`), not
    on a dict (`state.data.update`)."""
    receiver = call.func.value if isinstance(call.func, ast.Attribute) else None
    if isinstance(receiver, ast.Call):
        return True
    return receiver is not None and "objects" in ast.unparse(receiver).split(".")


def _first_argument_is_the_request(call: ast.Call) -> bool:
    return bool(call.args) and isinstance(call.args[0], ast.Name) and call.args[0].id == "request"


def writes_in(source: str) -> list[tuple[int, str]]:
    """The lines of `source` that write, with the call."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        name = _name(node)
        is_method = isinstance(node.func, ast.Attribute)
        if (
            name == AUDIT
            or (is_method and name in WRITES)
            or (is_method and name in SAVES and not _first_argument_is_the_request(node))
            or (is_method and name == "update" and _is_queryset_update(node))
        ):
            found.append((node.lineno, ast.unparse(node.func)))
    return sorted(found)


def views_modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*views*.py"))


def test_the_views_modules_are_found() -> None:
    names = {path.relative_to(PACKAGE).as_posix() for path in views_modules()}
    assert {"records/majority_views.py", "helpdesk/passkey_views.py"} <= names


def test_views_do_not_write() -> None:
    offenders = [
        f"{path.relative_to(PACKAGE)}:{line}: {call}(…)"
        for path in views_modules()
        for line, call in writes_in(path.read_text(encoding="utf-8"))
    ]
    assert not offenders, "Views call an action instead (STYLE.md §2):\n" + "\n".join(offenders)


def test_each_kind_of_write_is_seen() -> None:
    source = """
def view(request, form, key, account, state):
    form.save()
    key.delete()
    Account.objects.create(person=person)
    Account.objects.filter(pk=account.pk).update(majority_review_due=False)
    account.passkeys.all().delete()
    CareRecord.objects.get_or_create(person=person)
    record_event(EventType.LOGIN_FAILED, actor="anonymous")
    audit.record_event(EventType.LOGIN_FAILED, actor="anonymous")
    """
    assert [call for _line, call in writes_in(source)] == [
        "form.save",
        "key.delete",
        "Account.objects.create",
        "Account.objects.filter(pk=account.pk).update",
        "account.passkeys.all().delete",
        "CareRecord.objects.get_or_create",
        "record_event",
        "audit.record_event",
    ]


def test_session_state_is_not_a_write() -> None:
    source = """
def view(request, state):
    state.data.update(matricule=matricule)
    ACTIVATION.save(request, state)
    flow.save(request, state, activity=False)
    request.session.pop(KEY, None)
    """
    assert writes_in(source) == []
