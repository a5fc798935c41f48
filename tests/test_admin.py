import pytest
from django.urls import reverse

ADMIN_PAGES = [
    "admin:agreements_agreement_changelist",
    "admin:agreements_invitation_changelist",
    "admin:agreements_unitsigningrequest_changelist",
    "admin:agreements_registration_changelist",
    "admin:agreements_termination_changelist",
    "admin:students_registryrecord_changelist",
    "admin:employers_employer_changelist",
    "admin:reference_code_changelist",
    "admin:reference_minimumwage_changelist",
    "admin:agreements_evidencerule_changelist",
    "admin:accounts_user_changelist",
    "admin:audit_auditevent_changelist",
    "admin:employers_apitoken_changelist",
    "admin:employers_apicall_changelist",
]


@pytest.mark.parametrize("name", ADMIN_PAGES)
def test_admin_changelists_open_for_platform_admins(client, platform_admin, signed, name):
    client.force_login(platform_admin)
    assert client.get(reverse(name)).status_code == 200


def test_the_admin_is_closed_to_reviewers(client, school_reviewer):
    client.force_login(school_reviewer)
    assert client.get(reverse("admin:index")).status_code == 302
