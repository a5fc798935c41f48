"""The 核查 page: each red flag fires on what it looks for and not below its threshold, in
the viewer's scope only; explanations are kept, audited and shown."""

from datetime import timedelta
from io import BytesIO

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone, translation
from PIL import Image

from agreements.models import Registration
from agreements.registrations.services import registration_save_draft
from destreg.audit.models import AuditAction, AuditEvent
from destreg.lib.uploads import clean_document
from reviews import flags
from reviews.flags import Kind, Scope
from reviews.models import FlagExplanation, VerificationSettings
from students.models import RegistryRecord, current_graduation_year
from students.tallies import destination_set
from tests import factories as f

PAGE = reverse("reviews:verification")
GRADUATES = reverse("reviews:verification_graduates")
EXPLAIN = reverse("reviews:verification_explain")
YEAR = current_graduation_year()


def _flags(world, kind: Kind, college=None):
    scope = Scope(world.school_a.pk, college.pk if college else None)
    with translation.override("en"):  # the reasons' wording, in English
        return flags.compute(scope).of(kind)


def _graduate(major, destination=None, **fields):
    record = f.make_record(major, **fields)
    if destination:
        destination_set(
            RegistryRecord.objects.filter(pk=record.pk), f.code("destination", destination), None
        )
    return f.make_student(record)


def _at_unit(student, status=Registration.Status.APPROVED, **unit):
    """A paper agreement registration of ``student`` at a unit (defaults: a plausible one)."""
    record = student.record
    values = {
        "unit_name": "某某科技有限公司",
        "unit_uscc": "91110000MA00000001",
        "contact_phone": "010-88886666",
        "contact_mobile": "13911112222",
        "contact_email": "hr@moumou.example.cn",
        **unit,
    }
    return Registration.objects.create(
        student=student,
        school_id=record.school_id,
        college_id=record.college_id,
        path=Registration.Path.PAPER,
        status=status,
        destination=f.code("destination", "10"),
        job_category=f.code("job_category", "13"),
        position="工程师",
        work_location="北京",
        hukou="none",
        **values,
    )


# --- destination shares ---------------------------------------------------------------------


def test_a_share_above_the_threshold_fires_and_says_why(world):
    for n in range(10):
        _graduate(world.major_a1, "76" if n < 2 else "10")  # 20 % freelance
    for n in range(10):
        _graduate(world.major_a2, "76" if n < 1 else "10")  # 10 %: below 15 %
    [flag] = _flags(world, Kind.SHARE)
    assert flag.key == f"share:{world.a1.pk}:76" and flag.count == 2
    assert "20.0%" in flag.reason and "15%" in flag.reason


def test_a_share_far_above_last_year_fires_below_the_threshold(world):
    VerificationSettings.objects.create(school=world.school_a, share_growth_points=5)
    for n in range(10):
        _graduate(world.major_a1, "75" if n < 1 else "10")  # 10 % this year
        _graduate(world.major_a1, "10", graduation_year=YEAR - 1)  # 0 % last year
    for n in range(10):
        _graduate(world.major_a2, "75" if n < 1 else "10")
        _graduate(world.major_a2, "75" if n < 1 else "10", graduation_year=YEAR - 1)  # as before
    [flag] = _flags(world, Kind.SHARE)
    assert flag.subject == f"{world.a1.pk}:75"
    assert "0.0%" in flag.reason and "5 points" in flag.reason


# --- units ----------------------------------------------------------------------------------


def test_many_graduates_at_one_unit_first_seen_this_year(world):
    VerificationSettings.objects.create(school=world.school_a, unit_graduates=3)
    for _n in range(3):
        _at_unit(_graduate(world.major_a1))
    for _n in range(3):
        _at_unit(_graduate(world.major_a2), unit_uscc="91110000MA00000002", unit_name="老单位")
    _at_unit(
        _graduate(world.major_a2, graduation_year=YEAR - 1),
        unit_uscc="91110000MA00000002",
        unit_name="老单位",
    )
    for _n in range(2):  # below the count
        _at_unit(_graduate(world.major_a1), unit_uscc="91110000MA00000003")
    # Withdrawn applications are no destination.
    _at_unit(
        _graduate(world.major_a1),
        status=Registration.Status.WITHDRAWN,
        unit_uscc="91110000MA00000003",
    )
    new, old = _flags(world, Kind.UNIT)
    assert (new.subject, new.count, new.first_seen) == ("91110000MA00000001", 3, True)
    assert "first seen this year" in new.reason
    assert (old.subject, old.count, old.first_seen) == ("91110000MA00000002", 3, False)
    assert "1 last year" in old.reason


def test_online_agreements_count_at_their_employer(world, signed, employer_user):
    VerificationSettings.objects.create(school=world.school_a, unit_graduates=2)
    uscc = employer_user.employer.uscc
    _at_unit(_graduate(world.major_a1), unit_uscc=uscc)  # the same unit by another path
    [flag] = _flags(world, Kind.UNIT)
    assert (flag.subject, flag.count, flag.title) == (uscc, 2, employer_user.employer.name)


def test_a_public_mailbox_without_landline_fires(world):
    _at_unit(_graduate(world.major_a1), contact_email="boss@QQ.com", contact_phone="")
    _at_unit(  # a landline is given: not flagged
        _graduate(world.major_a1), unit_uscc="91110000MA00000009", contact_email="hr@163.com"
    )
    [flag] = _flags(world, Kind.MAILBOX)
    assert flag.subject == "91110000MA00000001" and "boss@qq.com" in flag.reason


def test_one_contact_shared_by_different_units_fires(world):
    _at_unit(_graduate(world.major_a1), contact_mobile="13700001111")
    _at_unit(_graduate(world.major_a1), contact_mobile="13700001111")  # same unit again
    assert _flags(world, Kind.CONTACT) == []
    _at_unit(
        _graduate(world.major_a2),
        unit_uscc="91110000MA00000005",
        unit_name="另一家公司",
        contact_mobile="13700001111",
        contact_phone="01088886666",  # the same landline written without the dash
        contact_email="other@example.cn",
    )
    flags = {flag.key: flag for flag in _flags(world, Kind.CONTACT)}
    assert set(flags) == {"contact:phone:13700001111", "contact:phone:01088886666"}
    assert flags["contact:phone:13700001111"].count == 3
    assert "另一家公司" in flags["contact:phone:13700001111"].reason


# --- proofs ---------------------------------------------------------------------------------


def _png() -> SimpleUploadedFile:
    buffer = BytesIO()
    Image.new("RGB", (40, 30), "white").save(buffer, "PNG")
    return SimpleUploadedFile("proof.png", buffer.getvalue(), "image/png")


def test_the_upload_keeps_the_proof_digest_and_a_shared_file_fires(world):
    first, second = _graduate(world.major_a1), _graduate(world.major_a2)
    for student in (first, second):
        registration = registration_save_draft(
            student=student,
            path="other",
            values={"kind": "freelance", "proof": clean_document(_png())},
        )
        Registration.objects.filter(pk=registration.pk).update(status="college_review")
    digests = set(Registration.objects.values_list("proof_sha256", flat=True))
    assert len(digests) == 1 and len(digests.pop()) == 64
    [flag] = _flags(world, Kind.PROOF)
    assert flag.count == 2
    # The college sees only its own graduate: one is no flag.
    assert _flags(world, Kind.PROOF, college=world.a1) == []


def test_the_command_fills_digests_of_older_files(world):
    registration = registration_save_draft(
        student=_graduate(world.major_a1),
        path="other",
        values={"kind": "freelance", "proof": clean_document(_png())},
    )
    digest = Registration.objects.get(pk=registration.pk).proof_sha256
    Registration.objects.update(proof_sha256="")
    from django.core.management import call_command

    call_command("fill_proof_digests")
    assert Registration.objects.get(pk=registration.pk).proof_sha256 == digest


# --- fast approvals -------------------------------------------------------------------------


def _approvals(reviewer, gaps_seconds, item):
    content_type = ContentType.objects.get_for_model(item)
    at = timezone.now() - timedelta(hours=1)
    for gap in [0, *gaps_seconds]:
        at += timedelta(seconds=gap)
        event = AuditEvent.objects.create(
            content_type=content_type,
            object_id=item.pk,
            actor=reviewer,
            action=AuditAction.COLLEGE_APPROVE,
        )
        AuditEvent.objects.filter(pk=event.pk).update(created_at=at)


def test_approvals_faster_than_the_threshold_fire_per_reviewer(
    world, college_reviewer, other_college_reviewer
):
    item = _at_unit(_graduate(world.major_a1))
    _approvals(college_reviewer, [10] * 5 + [600], item)  # 5 gaps under 30 s
    _approvals(other_college_reviewer, [10] * 4 + [60] * 5, item)  # only 4
    [flag] = _flags(world, Kind.FAST)
    assert (flag.subject, flag.count) == (str(college_reviewer.pk), 5)
    assert "5 of 7 approvals" in flag.reason
    assert _flags(world, Kind.FAST, college=world.a2) == []


# --- the page, its scope and the explanations -------------------------------------------------


@pytest.fixture
def flagged(world):
    """Freelance at 50 % in college a1 of school A."""
    for n in range(4):
        _graduate(world.major_a1, "76" if n < 2 else "10")
    return f"share:{world.a1.pk}:76"


def test_school_staff_see_the_flag_and_its_graduates(client, flagged, school_reviewer):
    client.force_login(school_reviewer)
    page = client.get(PAGE).content.decode()
    assert "50.0%" in page and "自由职业" in page
    drill = client.get(GRADUATES, {"flag": flagged})
    assert drill.status_code == 200 and len(drill.context["rows"]) == 2


def test_other_colleges_and_schools_see_nothing_of_it(
    client, flagged, other_college_reviewer, other_school_reviewer, college_reviewer
):
    for user in (other_college_reviewer, other_school_reviewer):
        client.force_login(user)
        assert "50.0%" not in client.get(PAGE).content.decode()
        assert client.get(GRADUATES, {"flag": flagged}).context["rows"] == []
    client.force_login(college_reviewer)
    assert "50.0%" in client.get(PAGE).content.decode()


def test_only_reviewers_of_a_school_or_college_may_open_it(
    client, flagged, platform_admin, student, employer_user
):
    assert client.get(PAGE).status_code == 302  # to the login
    for user in (platform_admin, student.user, employer_user):
        client.force_login(user)
        assert client.get(PAGE).status_code == 403
        assert client.get(GRADUATES, {"flag": flagged}).status_code == 403
        assert client.post(EXPLAIN, {"key": flagged, "comment": "x"}).status_code == 403
    assert not FlagExplanation.objects.exists()


def test_a_malformed_flag_is_not_found(client, school_reviewer):
    client.force_login(school_reviewer)
    assert client.get(GRADUATES, {"flag": "nonsense"}).status_code == 404
    assert client.get(GRADUATES, {"flag": "fast:abc"}).context["rows"] == []


def test_explaining_a_flag_is_kept_audited_and_shown(client, flagged, school_reviewer):
    client.force_login(school_reviewer)
    response = client.post(EXPLAIN, {"key": flagged, "comment": "本届多为自由撰稿人，已电话核实"})
    assert response.status_code == 302
    note = FlagExplanation.objects.get()
    assert (note.key, note.school_id, note.college_id) == (flagged, school_reviewer.school_id, None)
    event = AuditEvent.objects.for_object(note).get()
    assert event.action == AuditAction.EXPLAIN_FLAG and event.actor == school_reviewer
    page = client.get(PAGE).content.decode()
    assert "本届多为自由撰稿人，已电话核实" in page and "50.0%" in page  # shown, not hidden


def test_the_college_explains_for_itself_only(client, flagged, college_reviewer, school_reviewer):
    client.force_login(college_reviewer)
    client.post(EXPLAIN, {"key": flagged, "comment": "学院已核实"})
    client.force_login(school_reviewer)
    assert "学院已核实" not in client.get(PAGE).content.decode()


def test_a_flag_not_raised_for_the_user_cannot_be_explained(
    client, flagged, other_school_reviewer, school_reviewer
):
    client.force_login(other_school_reviewer)
    client.post(EXPLAIN, {"key": flagged, "comment": "盖掉它"})
    client.force_login(school_reviewer)
    client.post(EXPLAIN, {"key": "unit:91110000MA00000001", "comment": "无此标记"})
    client.post(EXPLAIN, {"key": flagged, "comment": "  "})
    assert not FlagExplanation.objects.exists()


def test_the_page_takes_a_fixed_number_of_queries(
    client, flagged, school_reviewer, django_assert_max_num_queries
):
    client.force_login(school_reviewer)
    with django_assert_max_num_queries(20):
        client.get(PAGE)


def test_the_flags_are_kept_a_while_and_recomputed_on_request(client, world, school_reviewer):
    for _n in range(4):
        _graduate(world.major_a1, "10")
    client.force_login(school_reviewer)
    assert "50.0%" not in client.get(PAGE).content.decode()
    for _n in range(4):
        _graduate(world.major_a1, "76")
    assert "50.0%" not in client.get(PAGE).content.decode()  # computed a moment ago
    assert "50.0%" in client.get(PAGE, {"refresh": "1"}).content.decode()
