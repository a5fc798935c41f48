"""The shared cast of users every view test draws on.

School A has two colleges (A1, A2); school B has one (B1). ``student`` studies
in A1 and has confirmed their registry; ``other_student`` studies in A1 too.
Reviewers: ``college_reviewer`` (A1), ``other_college_reviewer`` (A2),
``school_reviewer`` (A), ``other_school_reviewer`` (B). Employers: ``employer_user``
and ``other_employer_user``, both verified.
"""

from types import SimpleNamespace

import pytest
from django.utils import timezone

from agreements.evidence import EvidenceRule, load_evidence_rules
from agreements.online import services as agreement_services
from destreg.accounts.models import Role
from destreg.reference.loading import load_codes, load_regions
from destreg.reference.models import Code, Region, School
from tests import factories as f

# oidc_provider: a stand-in school identity provider in its own process (the SSO tests).
pytest_plugins = ["tests.oidc_provider.fixtures"]


@pytest.fixture(autouse=True)
def _fast_tests(settings, tmp_path):
    from django.core.cache import cache

    from destreg.reference import cache as references

    cache.clear()  # cached statistics must not leak between tests
    references.clear()  # nor reference rows (SQLite reuses the ids of rolled-back rows)
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Tests do not run collectstatic, so use plain (unhashed) static URLs.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


def confirmed_authenticator(user):
    """The user's confirmed TOTP device (created if missing), ready to accept a fresh code:
    what a staff member enrolled long ago has."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="authenticator", confirmed=True)
    return device


@pytest.fixture(autouse=True)
def _force_login_passes_the_second_factor(monkeypatch):
    """``client.force_login(user)`` signs in the way a real sign-in ends: for somebody who
    owes a second factor (their role requires it, or they turned it on), the session is
    also verified with their confirmed authenticator, created if they have none. Tests of
    the second factor itself sign in through the real pages instead."""
    from django.test.client import ClientMixin
    from django_otp import DEVICE_ID_SESSION_KEY

    from destreg.accounts.middleware import owes_second_factor

    force_login = ClientMixin.force_login

    def force_login_verified(self, user, backend=None):
        force_login(self, user, backend)
        if owes_second_factor(user):
            session = self.session
            session[DEVICE_ID_SESSION_KEY] = confirmed_authenticator(user).persistent_id
            session.save()

    monkeypatch.setattr(ClientMixin, "force_login", force_login_verified)


@pytest.fixture
def reference_data(db):
    """Code tables come from a data migration; transactional tests flush them, so reload."""
    if not Code.objects.exists():
        load_codes()
        load_regions()
    if not EvidenceRule.objects.exists():
        load_evidence_rules()


@pytest.fixture
def world(reference_data):
    school_a, school_b = f.make_school(name="甲大学"), f.make_school(name="乙大学")
    a1, a2 = f.make_college(school_a, name="甲一学院"), f.make_college(school_a, name="甲二学院")
    b1 = f.make_college(school_b, name="乙一学院")
    major_a1, major_a2, major_b1 = f.make_major(a1), f.make_major(a2), f.make_major(b1)
    return SimpleNamespace(
        school_a=school_a,
        school_b=school_b,
        a1=a1,
        a2=a2,
        b1=b1,
        major_a1=major_a1,
        major_a2=major_a2,
        major_b1=major_b1,
    )


@pytest.fixture
def student(world):
    return f.make_student(f.make_record(world.major_a1, name="彭也"))


@pytest.fixture
def other_student(world):
    return f.make_student(f.make_record(world.major_a1, name="李娜"))


@pytest.fixture
def employer_user(reference_data):
    employer = f.make_employer(verified_at=timezone.now())
    return f.make_user(Role.EMPLOYER, employer=employer)


@pytest.fixture
def other_employer_user(reference_data):
    employer = f.make_employer(verified_at=timezone.now())
    return f.make_user(Role.EMPLOYER, employer=employer)


@pytest.fixture
def college_reviewer(world):
    return f.make_user(Role.COLLEGE_REVIEWER, school=world.school_a, college=world.a1)


@pytest.fixture
def other_college_reviewer(world):
    return f.make_user(Role.COLLEGE_REVIEWER, school=world.school_a, college=world.a2)


@pytest.fixture
def school_reviewer(world):
    return f.make_user(Role.SCHOOL_REVIEWER, school=world.school_a)


@pytest.fixture
def other_school_reviewer(world):
    return f.make_user(Role.SCHOOL_REVIEWER, school=world.school_b)


@pytest.fixture
def platform_admin(reference_data):
    return f.make_user(Role.PLATFORM_ADMIN, is_staff=True, is_superuser=True)


@pytest.fixture
def invitation(employer_user, student):
    return f.make_invitation(employer_user.employer, student, sent_by=employer_user)


@pytest.fixture
def agreement(invitation, student):
    """An agreement awaiting the college's review."""
    return agreement_services.invitation_accept(invitation=invitation, user=student.user)


@pytest.fixture
def signed(agreement, college_reviewer, school_reviewer):
    agreement_services.agreement_approve(agreement=agreement, reviewer=college_reviewer)
    return agreement_services.agreement_approve(agreement=agreement, reviewer=school_reviewer)


@pytest.fixture(autouse=True)
def sms_outbox(settings):
    """Text messages go to ``destreg.lib.sms.outbox`` (emptied for each test), like e-mail."""
    from destreg.lib import sms

    settings.SMS_BACKEND = "destreg.lib.sms.LocmemBackend"
    sms.outbox.clear()
    return sms.outbox


@pytest.fixture
def purge_snapshots(transactional_db):
    """For tests on a live server that take snapshots: the database refuses to delete them
    (append-only triggers), so the flush after the test would fail. Torn down before the
    flush, this lifts the triggers the way a migration could, empties the snapshot tables
    and puts the triggers back."""
    yield
    import importlib

    from django.db import connection

    from reviews.models import ExportJob, Snapshot, SnapshotRow

    triggers = importlib.import_module("reviews.migrations.0005_snapshots_append_only")
    create, drop = triggers._statements(connection.vendor)
    with connection.cursor() as cursor:
        for statement in drop:
            cursor.execute(statement)
        ExportJob.objects.exclude(snapshot=None).delete()
        SnapshotRow.objects.all().delete()
        Snapshot.objects.all().delete()
        for statement in create:
            cursor.execute(statement)


# --- provincial and Ministry staff (reviews/oversight.py) ---


@pytest.fixture
def provinces(world):
    beijing = Region.objects.get(code="110000")
    shanghai = Region.objects.get(code="310000")
    School.objects.filter(pk=world.school_a.pk).update(province=beijing)
    School.objects.filter(pk=world.school_b.pk).update(province=shanghai)
    return beijing, shanghai


@pytest.fixture
def province_staff(provinces):
    return f.make_user(Role.PROVINCE_STAFF, province=provinces[0])


@pytest.fixture
def other_province_staff(provinces):
    return f.make_user(Role.PROVINCE_STAFF, province=provinces[1])


@pytest.fixture
def ministry_staff(provinces):
    return f.make_user(Role.MINISTRY_STAFF)
