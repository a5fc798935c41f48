"""The Django admin's changes to people's access: audited, and deletion only of accounts
without history (the rest are deactivated)."""

import json

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import PermissionDenied
from django.forms import SplitDateTimeWidget
from django.urls import reverse
from django.utils import translation

from destreg.accounts import services
from destreg.accounts.backends import UserAndProfileBackend
from destreg.accounts.models import Role, User
from destreg.accounts.permissions import can_deactivate_user, can_delete_user
from destreg.audit.models import AuditAction, AuditEvent
from tests import factories as f


def _change_url(user) -> str:
    return reverse("admin:accounts_user_change", args=[user.pk])


def _form_data(client, user, **changes) -> dict:
    """What the admin's change form posts back for ``user`` unchanged, with ``changes``."""
    form = client.get(_change_url(user)).context["adminform"].form
    data: dict = {}
    for name, field in form.fields.items():
        if field.disabled:
            continue
        value = form[name].value()
        if isinstance(field.widget, SplitDateTimeWidget):
            parts = field.widget.decompress(value) if value else [None, None]
            for index, part in enumerate(parts):
                data[f"{name}_{index}"] = "" if part is None else str(part)
        elif isinstance(value, bool):
            if value:
                data[name] = "on"
        elif isinstance(value, list | tuple):
            data[name] = [str(item) for item in value]
        else:
            data[name] = "" if value is None else str(value)
    for name, value in changes.items():
        if value is False:
            data.pop(name, None)
        else:
            data[name] = value
    return data


def _events(user, action=AuditAction.CHANGE_USER_ACCESS):
    return list(AuditEvent.objects.for_object(user).filter(action=action))


@pytest.fixture
def admin_client(client, platform_admin):
    """The platform admin (a superuser), reading the admin in English."""
    client.force_login(platform_admin)
    client.cookies["django_language"] = "en"
    return client


def test_a_change_of_role_and_school_writes_one_audit_row_with_old_and_new(
    admin_client, platform_admin, world
):
    user = f.make_user(Role.STUDENT)
    data = _form_data(admin_client, user, role=Role.SCHOOL_REVIEWER, school=world.school_a.pk)
    response = admin_client.post(_change_url(user), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    user.refresh_from_db()
    assert (user.role, user.school_id) == (Role.SCHOOL_REVIEWER, world.school_a.pk)
    [event] = _events(user)
    assert event.actor == platform_admin
    assert event.changes == {
        "role": {"old": Role.STUDENT, "new": Role.SCHOOL_REVIEWER},
        "school": {"old": None, "new": {"id": world.school_a.pk, "name": world.school_a.name}},
    }
    assert AuditEvent.objects.for_object(user).count() == 1


def test_a_save_that_changes_nothing_writes_no_audit_row(admin_client, world):
    user = f.make_user(Role.SCHOOL_REVIEWER, school=world.school_a)
    data = _form_data(admin_client, user, display_name="新名字")
    assert admin_client.post(_change_url(user), data).status_code == 302
    assert not AuditEvent.objects.for_object(user).exists()


def test_groups_permissions_and_flags_are_recorded_in_the_same_row(admin_client, world):
    user = f.make_user(Role.PLATFORM_ADMIN)
    group = Group.objects.create(name="核查员")
    permission = Permission.objects.get(codename="change_user")
    data = _form_data(
        admin_client,
        user,
        groups=[str(group.pk)],
        user_permissions=[str(permission.pk)],
        is_staff="on",
    )
    assert admin_client.post(_change_url(user), data).status_code == 302
    [event] = _events(user)
    assert event.changes == {
        "is_staff": {"old": False, "new": True},
        "groups": {"old": [], "new": ["核查员"]},
        "user_permissions": {"old": [], "new": ["accounts.change_user"]},
    }


def test_the_password_is_audited_as_changed_and_never_written_to_the_log(
    admin_client, platform_admin
):
    user = f.make_user(Role.STUDENT)
    url = reverse("admin:auth_user_password_change", args=[user.pk])
    response = admin_client.post(
        url,
        {"password1": "Neu-Passwort-42", "password2": "Neu-Passwort-42", "usable_password": "true"},
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password("Neu-Passwort-42")
    [event] = _events(user, AuditAction.CHANGE_USER_PASSWORD)
    assert event.actor == platform_admin and event.changes == {"password": "changed"}
    logged = json.dumps([e.changes for e in AuditEvent.objects.all()], ensure_ascii=False)
    assert user.password not in logged and "Neu-Passwort-42" not in logged


def test_a_refused_password_form_writes_nothing(admin_client):
    user = f.make_user(Role.STUDENT)
    url = reverse("admin:auth_user_password_change", args=[user.pk])
    admin_client.post(url, {"password1": "a", "password2": "b", "usable_password": "true"})
    assert not AuditEvent.objects.for_object(user).exists()


def test_a_new_account_gets_one_row_with_what_it_was_given(admin_client, platform_admin, world):
    data = {
        "username": "newreviewer",
        "password1": "Neu-Passwort-42",
        "password2": "Neu-Passwort-42",
        "usable_password": "true",
        "role": Role.COLLEGE_REVIEWER,
        "school": world.school_a.pk,
        "college": world.a1.pk,
    }
    response = admin_client.post(reverse("admin:accounts_user_add"), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    user = User.objects.get(username="newreviewer")
    [event] = _events(user)
    assert event.changes["role"] == {"old": "", "new": Role.COLLEGE_REVIEWER}
    assert event.changes["college"]["new"] == {"id": world.a1.pk, "name": world.a1.name}
    assert "password" not in event.changes and user.password not in json.dumps(event.changes)


def test_only_a_superuser_makes_a_superuser(world):
    staff = f.make_user(Role.PLATFORM_ADMIN, is_staff=True)
    user = f.make_user(Role.STUDENT)

    def save():
        user.is_superuser = True
        user.save()

    with pytest.raises(PermissionDenied):
        services.user_save(user=user, actor=staff, save=save, created=False)
    user.refresh_from_db()
    assert not user.is_superuser and not AuditEvent.objects.for_object(user).exists()


# --- deleting and deactivating -------------------------------------------------------------


def test_an_account_with_history_cannot_be_deleted(admin_client, student):
    user = student.user
    response = admin_client.post(
        reverse("admin:accounts_user_delete", args=[user.pk]), {"post": "yes"}, follow=True
    )
    assert User.objects.filter(pk=user.pk).exists()
    page = response.content.decode()
    assert "cannot be deleted" in page and "deactivate" in page
    assert not _events(user, AuditAction.DELETE_USER)


def test_a_reviewer_who_decided_something_cannot_be_deleted(admin_client, signed, school_reviewer):
    with translation.override("en"):
        decision = can_delete_user(admin_client_user(admin_client), school_reviewer)
    assert not decision and "audit events" in decision.reason
    change = admin_client.get(_change_url(school_reviewer)).content.decode()
    delete = reverse("admin:accounts_user_delete", args=[school_reviewer.pk])
    assert delete not in change and "cannot be deleted" in change  # no button; why not
    fresh = f.make_user(Role.STUDENT)
    page = admin_client.get(_change_url(fresh)).content.decode()
    assert reverse("admin:accounts_user_delete", args=[fresh.pk]) in page


def admin_client_user(client) -> User:
    return User.objects.get(pk=client.session["_auth_user_id"])


def test_an_account_without_history_can_be_deleted_and_the_deletion_is_audited(
    admin_client, platform_admin
):
    user = f.make_user(Role.STUDENT, username="typo")
    assert can_delete_user(platform_admin, user)
    response = admin_client.post(
        reverse("admin:accounts_user_delete", args=[user.pk]), {"post": "yes"}
    )
    assert response.status_code == 302
    assert not User.objects.filter(pk=user.pk).exists()
    [event] = _events(user, AuditAction.DELETE_USER)
    assert event.changes == {"username": "typo", "role": Role.STUDENT}


def test_nobody_deletes_their_own_account(platform_admin):
    assert not can_delete_user(platform_admin, platform_admin)
    assert not can_deactivate_user(platform_admin, platform_admin)


def _bulk(client, action, users, **extra):
    data = {"action": action, "_selected_action": [str(u.pk) for u in users], **extra}
    return client.post(reverse("admin:accounts_user_changelist"), data, follow=True)


def test_the_bulk_delete_is_refused_whole_when_one_account_has_history(admin_client, student):
    fresh = f.make_user(Role.STUDENT)
    response = _bulk(admin_client, "delete_selected", [fresh, student.user], post="yes")
    assert "Nothing was deleted" in response.content.decode()
    assert User.objects.filter(pk__in=[fresh.pk, student.user.pk]).count() == 2


def test_the_bulk_delete_deletes_accounts_without_history(admin_client):
    users = [f.make_user(Role.STUDENT), f.make_user(Role.STUDENT)]
    _bulk(admin_client, "delete_selected", users, post="yes")
    assert not User.objects.filter(pk__in=[u.pk for u in users]).exists()
    assert AuditEvent.objects.filter(action=AuditAction.DELETE_USER).count() == 2


def test_deactivating_switches_the_account_off_and_is_audited(
    admin_client, student, platform_admin
):
    user = student.user
    _bulk(admin_client, "deactivate_users", [user])
    user.refresh_from_db()
    assert not user.is_active
    [event] = _events(user)
    assert event.actor == platform_admin
    assert event.changes == {"is_active": {"old": True, "new": False}}
    assert UserAndProfileBackend().get_user(user.pk) is None  # their sessions end
    _bulk(admin_client, "deactivate_users", [user])  # already off: no second row
    assert len(_events(user)) == 1
