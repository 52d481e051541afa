"""The staff roles as Django groups: *agent* (lookup and actions), *superviseur* (also the
audit log, the statistics and the review of the emergency accesses to DSPs), and
*impression* — the print side — which only generates, downloads and marks as posted the
letter batches, whose PDFs hold activation codes in clear.

A clear activation code opens a DSP (re-activate the account with it), and staff never
see a DSP: so no account that talks to patients (agent, superviseur) or administers the
platform (superuser) ever holds the print permission. `role_conflict` says whether a set
of groups, permissions and the superuser flag would combine them; the admin's forms,
`esante create-staff` and the model-level guard below (signals: whatever saves, the
shell included) refuse such an account, and `is_print_operator` does not treat one as
a print operator even if it exists."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from django.utils.translation import gettext as _

if TYPE_CHECKING:
    from django.contrib.auth.models import User

AGENT, SUPERVISEUR, IMPRESSION = "agent", "superviseur", "impression"
ROLES = {
    AGENT: ["use_helpdesk"],
    SUPERVISEUR: [
        "use_helpdesk",
        "view_audit_log",
        "view_statistics",
        "review_emergency_access",
    ],
    IMPRESSION: ["print_letters"],
}
HELPDESK_ROLES = (AGENT, SUPERVISEUR)
PRINT_PERMISSION = "print_letters"
# The permissions of the side that talks to patients: never with the print permission.
HELPDESK_PERMISSIONS = frozenset(
    {"use_helpdesk", "view_audit_log", "view_statistics", "review_emergency_access"}
)


def role_conflict(codenames: Iterable[str], *, is_superuser: bool = False) -> str | None:
    """Why an account holding these helpdesk permission codenames (from its groups and
    its own permissions) may not exist, or None."""
    held = set(codenames)
    if PRINT_PERMISSION not in held:
        return None
    if is_superuser:
        return _(
            "Un superutilisateur ne peut pas avoir le rôle « impression » : les courriers "
            "imprimés portent des codes d'activation en clair."
        )
    if held & HELPDESK_PERMISSIONS:
        return _(
            "Le rôle « impression » ne peut pas être cumulé avec un rôle du helpdesk "
            "(agent ou superviseur) : les courriers imprimés portent des codes "
            "d'activation en clair."
        )
    return None


def codenames_of(*, group_ids: Iterable[int] = (), permission_ids: Iterable[int] = ()) -> set[str]:
    """The helpdesk permission codenames given by these groups and these permissions."""
    from django.contrib.auth.models import Permission

    return set(
        Permission.objects.filter(content_type__app_label="helpdesk")
        .filter(
            _ids_filter("group__in", group_ids) | _ids_filter("pk__in", permission_ids),
        )
        .values_list("codename", flat=True)
    )


def _ids_filter(lookup: str, ids: Iterable[int]) -> Any:
    from django.db.models import Q

    ids = list(ids)
    return Q(**{lookup: ids}) if ids else Q(pk__in=[])


def user_codenames(user: User) -> set[str]:
    """The helpdesk permission codenames a saved user holds, through groups or directly."""
    return codenames_of(
        group_ids=user.groups.values_list("pk", flat=True),
        permission_ids=user.user_permissions.values_list("pk", flat=True),
    )


def is_print_operator(user: User) -> bool:
    """Whether this (logged-in) user may handle the letter batches: the print permission
    and nothing of the helpdesk side, never a superuser (whom Django grants everything)."""
    return bool(
        user.is_active
        and not user.is_superuser
        and user.has_perm(f"helpdesk.{PRINT_PERMISSION}")
        and not any(user.has_perm(f"helpdesk.{name}") for name in HELPDESK_PERMISSIONS)
    )


def is_helpdesk_staff(user: User) -> bool:
    """Whether this user works on the side that talks to patients (lookup, actions)."""
    return bool(user.is_active and user.has_perm("helpdesk.use_helpdesk"))


def is_staff_member(user: User) -> bool:
    """Whether this user may log in to the helpdesk at all: one side or the other."""
    return is_helpdesk_staff(user) or is_print_operator(user)


def ensure_groups(apps: Any = None, using: str | None = None, **_kwargs: Any) -> None:
    """Create or complete the groups (after every migrate, and after a test database is
    flushed: the permissions come back then, the groups would not)."""
    if apps is None:
        from django.apps import apps as global_apps

        apps = global_apps
    group_model = apps.get_model("auth", "Group")
    permission_model = apps.get_model("auth", "Permission")
    for name, codenames in ROLES.items():
        group, _created = group_model.objects.using(using).get_or_create(name=name)
        group.permissions.set(
            permission_model.objects.using(using).filter(
                content_type__app_label="helpdesk", codename__in=codenames
            )
        )
