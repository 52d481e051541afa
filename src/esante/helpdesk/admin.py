"""Django's admin (superusers, after the helpdesk's two factors) registers the staff users
and the groups only — no letter, batch, outbox message or anything else that could show
an activation code. Its user and group forms refuse, in French, a change that would give
an account the print role with a helpdesk role or the superuser flag
(esante.helpdesk.roles); the model-level guard (esante.helpdesk.role_guard) refuses it
whatever makes the change."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.forms import UserChangeForm
from django.contrib.auth.models import Group, User

from esante.helpdesk.roles import codenames_of, role_conflict


class StaffChangeForm(UserChangeForm):  # type: ignore[type-arg]
    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        groups = cleaned.get("groups")
        permissions = cleaned.get("user_permissions")
        codenames = codenames_of(
            group_ids=[group.pk for group in groups] if groups is not None else [],
            permission_ids=[permission.pk for permission in permissions]
            if permissions is not None
            else [],
        )
        conflict = role_conflict(codenames, is_superuser=bool(cleaned.get("is_superuser")))
        if conflict:
            raise forms.ValidationError(conflict)
        return cleaned


class StaffAdmin(UserAdmin):  # type: ignore[type-arg]
    form = StaffChangeForm


class RoleGroupForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = Group
        fields = ["name", "permissions"]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        permissions = cleaned.get("permissions")
        permission_ids = [permission.pk for permission in permissions or []]
        conflict = role_conflict(codenames_of(permission_ids=permission_ids))
        if conflict is None and self.instance.pk is not None:
            for member in self.instance.user_set.all():
                others = member.groups.exclude(pk=self.instance.pk).values_list("pk", flat=True)
                own = member.user_permissions.values_list("pk", flat=True)
                held = codenames_of(group_ids=others, permission_ids=[*own, *permission_ids])
                conflict = role_conflict(held, is_superuser=member.is_superuser)
                if conflict:
                    break
        if conflict:
            raise forms.ValidationError(conflict)
        return cleaned


class RoleGroupAdmin(GroupAdmin):
    form = RoleGroupForm


admin.site.unregister(User)
admin.site.unregister(Group)
admin.site.register(User, StaffAdmin)
admin.site.register(Group, RoleGroupAdmin)
