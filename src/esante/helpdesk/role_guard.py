"""The model-level guard of the separation of duties (esante.helpdesk.roles): no change
to a user's groups or permissions, to a group's permissions or members, or to the
superuser flag may leave an account holding the print permission together with a
helpdesk permission or the superuser flag. Whatever makes the change — the admin (whose
forms say it first, in French), a command, the shell — it raises RoleConflict before
anything is written."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, User
from django.core.exceptions import ValidationError
from django.db.models.signals import m2m_changed, pre_save

from esante.helpdesk.roles import codenames_of, role_conflict


class RoleConflict(ValidationError):
    """The change would give one account the print role and a helpdesk role (or the
    superuser flag)."""


def _refuse_if_conflicting(
    user: User,
    *,
    more_groups: Iterable[int] = (),
    more_permissions: Iterable[int] = (),
    is_superuser: bool | None = None,
) -> None:
    group_ids = set(more_groups)
    permission_ids = set(more_permissions)
    if user.pk is not None:
        group_ids |= set(user.groups.values_list("pk", flat=True))
        permission_ids |= set(user.user_permissions.values_list("pk", flat=True))
    codenames = codenames_of(group_ids=group_ids, permission_ids=permission_ids)
    superuser = user.is_superuser if is_superuser is None else is_superuser
    message = role_conflict(codenames, is_superuser=superuser)
    if message:
        raise RoleConflict(message)


def _user_groups_changed(
    sender: Any, instance: Any, action: str, reverse: bool, pk_set: set[int] | None, **_: Any
) -> None:
    if action != "pre_add" or not pk_set:
        return
    if not reverse:  # user.groups.add(groups)
        _refuse_if_conflicting(instance, more_groups=pk_set)
    else:  # group.user_set.add(users)
        for user in get_user_model().objects.filter(pk__in=pk_set):
            _refuse_if_conflicting(user, more_groups=[instance.pk])


def _user_permissions_changed(
    sender: Any, instance: Any, action: str, reverse: bool, pk_set: set[int] | None, **_: Any
) -> None:
    if action != "pre_add" or not pk_set:
        return
    if not reverse:  # user.user_permissions.add(permissions)
        _refuse_if_conflicting(instance, more_permissions=pk_set)
    else:  # permission.user_set.add(users)
        for user in get_user_model().objects.filter(pk__in=pk_set):
            _refuse_if_conflicting(user, more_permissions=[instance.pk])


def _refuse_group_with(group: Group, more_permissions: Iterable[int]) -> None:
    more = set(more_permissions)
    own = codenames_of(permission_ids=more | set(group.permissions.values_list("pk", flat=True)))
    message = role_conflict(own)
    if message:
        raise RoleConflict(message)
    if group.pk is not None:
        for user in group.user_set.all():
            _refuse_if_conflicting(user, more_permissions=more)


def _group_permissions_changed(
    sender: Any, instance: Any, action: str, reverse: bool, pk_set: set[int] | None, **_: Any
) -> None:
    if action != "pre_add" or not pk_set:
        return
    if not reverse:  # group.permissions.add(permissions)
        _refuse_group_with(instance, pk_set)
    else:  # permission.group_set.add(groups)
        for group in Group.objects.filter(pk__in=pk_set):
            _refuse_group_with(group, [instance.pk])


def _user_saved(
    sender: Any,
    instance: Any,
    raw: bool = False,
    update_fields: frozenset[str] | None = None,
    **_: Any,
) -> None:
    if raw or instance.pk is None or not instance.is_superuser:
        return
    if update_fields is not None and "is_superuser" not in update_fields:
        return  # a login's last_login, a password: no query on those saves
    _refuse_if_conflicting(instance, is_superuser=True)


def connect() -> None:
    user_model = get_user_model()
    m2m_changed.connect(
        _user_groups_changed, sender=user_model.groups.through, dispatch_uid="role_guard.groups"
    )
    m2m_changed.connect(
        _user_permissions_changed,
        sender=user_model.user_permissions.through,
        dispatch_uid="role_guard.user_permissions",
    )
    m2m_changed.connect(
        _group_permissions_changed,
        sender=Group.permissions.through,
        dispatch_uid="role_guard.group_permissions",
    )
    pre_save.connect(_user_saved, sender=user_model, dispatch_uid="role_guard.superuser")
