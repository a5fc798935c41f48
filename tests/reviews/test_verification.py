"""就业核查: the sample is stratified and reproducible from its seed, only school staff draw
and assign, verifiers see their own assignments, and "not true" sends the destination back
to the graduate, keeps the approved version and tells the college."""

import math
import random
from collections import Counter

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation

from agreements.models import Agreement, Registration
from agreements.online import services as online
from agreements.registrations import services as reg
from agreements.terms import Hukou
from agreements.untrue import can_find_untrue, snapshot_rows
from destreg.accounts.models import Role
from destreg.audit.models import AuditAction, AuditEvent, Notification
from reviews import verification
from reviews.models import Outcome, VerificationItem
from students.destinations import path_openings
from students.models import DestinationClaim, RegistryRecord, current_graduation_year
from students.tallies import destination_set
from tests import factories as f

pytestmark = pytest.mark.django_db

OTHER = {
    "kind": "further_study",
    "subtype": "研究生",
    "institution": "示例研究院",
    "program": "计算机",
}


def _placed(major, code: str, **record) -> Registration:
    """A graduate whose other destination (``code``) is approved, set up without reviews."""
    student = f.make_student(f.make_record(major, **record))
    registration = Registration.objects.create(
        student=student,
        school=major.college.school,
        college=major.college,
        path="other",
        destination=f.code("destination", code),
    )
    Registration.objects.filter(pk=registration.pk).update(status="approved")
    destination_set(
        RegistryRecord.objects.filter(pk=student.record_id), f.code("destination", code), None
    )
    return registration


@pytest.fixture
def population(world):
    """30 graduates of school A: 10 + 6 in college A1 (codes 80, 11), 8 + 6 in A2."""
    for major, code, n in [
        (world.major_a1, "80", 10),
        (world.major_a1, "11", 6),
        (world.major_a2, "80", 8),
        (world.major_a2, "11", 6),
    ]:
        for _ in range(n):
            _placed(major, code)
    _placed(world.major_b1, "80")  # another school's graduate is never drawn
    return world


def _drawn(sample) -> list[int]:
    return sorted(sample.items.values_list("student_id", flat=True))


def test_the_same_seed_draws_the_same_graduates(population, school_reviewer):
    first = verification.sample_draw(by=school_reviewer, percentage=30, seed=20260601)
    again = verification.sample_draw(by=school_reviewer, percentage=30, seed=20260601)
    other = verification.sample_draw(by=school_reviewer, percentage=30, seed=7)
    assert first.seed == again.seed == 20260601
    assert first.population == 30
    assert _drawn(first) == _drawn(again)
    assert _drawn(first) != _drawn(other)


def test_each_college_and_destination_type_is_drawn_in_proportion(population, school_reviewer):
    sample = verification.sample_draw(by=school_reviewer, percentage=30, seed=1)
    strata = Counter(sample.items.values_list("college_id", "destination__code"))
    world = population
    assert strata == {
        (world.a1.pk, "80"): math.ceil(10 * 0.3),
        (world.a1.pk, "11"): math.ceil(6 * 0.3),
        (world.a2.pk, "80"): math.ceil(8 * 0.3),
        (world.a2.pk, "11"): math.ceil(6 * 0.3),
    }
    assert not sample.items.filter(school=world.school_b).exists()


def test_the_draw_does_not_depend_on_the_order_rows_come_in(population, school_reviewer):
    candidates = verification.population(school_reviewer.school_id, current_graduation_year())
    shuffled = list(candidates)
    random.Random(3).shuffle(shuffled)
    assert verification.choose(shuffled, 25, 99) == verification.choose(candidates, 25, 99)


def test_a_seed_left_blank_is_drawn_and_recorded(population, school_reviewer):
    sample = verification.sample_draw(by=school_reviewer, percentage=10)
    assert 0 <= sample.seed < verification.SEED_LIMIT
    event = AuditEvent.objects.for_object(sample).get()
    assert event.action == AuditAction.DRAW_SAMPLE
    assert event.changes["seed"] == sample.seed


def test_only_approved_destinations_are_in_the_population(world, school_reviewer, student):
    proof = SimpleUploadedFile("录取通知书.pdf", f.pdf_bytes())
    pending = reg.registration_save_draft(
        student=student, path="other", values=OTHER | {"proof": proof}
    )
    reg.registration_submit(registration=pending, user=student.user)
    placed = _placed(world.major_a2, "80")
    candidates = verification.population(world.school_a.pk, student.record.graduation_year)
    assert [c.student_id for c in candidates] == [placed.student_id]


def test_only_school_reviewers_draw(population, college_reviewer, other_school_reviewer):
    with pytest.raises(PermissionDenied):
        verification.sample_draw(by=college_reviewer, percentage=10)
    with pytest.raises(ValidationError):  # a college of another school
        verification.sample_draw(by=other_school_reviewer, percentage=10, college=population.a1)


# --- pages ------------------------------------------------------------------------------------


def test_the_school_reviewer_draws_from_the_page(client, population, school_reviewer):
    client.force_login(school_reviewer)
    url = reverse("reviews:verification_samples")
    response = client.post(url, {"percentage": "20", "seed": "42", "college": ""})
    sample = verification.samples_of(school_reviewer).get()
    assert response.status_code == 302
    assert response.url == reverse("reviews:verification_sample", args=[sample.pk])
    page = client.get(response.url).content.decode()
    assert "42" in page
    assert page.count('name="item"') == sample.items.count() == 8  # ceil(2 + 1.2 + 1.6 + 1.2)


def test_college_staff_cannot_draw_or_see_samples(client, population, college_reviewer):
    client.force_login(college_reviewer)
    url = reverse("reviews:verification_samples")
    assert client.post(url, {"percentage": "20"}).status_code == 403
    assert client.get(url).status_code == 403


def test_another_schools_staff_see_nothing(
    client, population, school_reviewer, other_school_reviewer
):
    sample = verification.sample_draw(by=school_reviewer, percentage=20, seed=1)
    item = sample.items.first()
    client.force_login(other_school_reviewer)
    assert client.get(reverse("reviews:verification_sample", args=[sample.pk])).status_code == 404
    assert client.get(reverse("reviews:verification_item", args=[item.pk])).status_code == 404
    page = client.get(reverse("reviews:verification_samples")).content.decode()
    assert reverse("reviews:verification_sample", args=[sample.pk]) not in page


def test_assignment_and_what_each_verifier_sees(
    client, population, school_reviewer, college_reviewer, other_college_reviewer
):
    sample = verification.sample_draw(by=school_reviewer, percentage=50, seed=5)
    a1_items = list(sample.items.filter(college=population.a1))
    a2_item = sample.items.filter(college=population.a2).first()
    client.force_login(school_reviewer)
    url = reverse("reviews:verification_sample", args=[sample.pk])
    response = client.post(url, {"verifier": college_reviewer.pk, "item": [i.pk for i in a1_items]})
    assert response.status_code == 302
    assert set(college_reviewer.verification_items.all()) == set(a1_items)
    assert Notification.objects.filter(user=college_reviewer).exists()

    # A college's reviewer checks only their own college's graduates.
    with pytest.raises(ValidationError):
        verification.items_assign(
            sample=sample, item_ids=[a2_item.pk], verifier=college_reviewer, by=school_reviewer
        )
    with pytest.raises(PermissionDenied):
        verification.items_assign(
            sample=sample, item_ids=[a2_item.pk], verifier=college_reviewer, by=college_reviewer
        )

    client.force_login(college_reviewer)
    tasks = client.get(reverse("reviews:verification_tasks")).content.decode()
    for item in a1_items:
        assert item.student.record.student_no in tasks
    assert a2_item.student.record.student_no not in tasks
    assert (
        client.get(reverse("reviews:verification_item", args=[a1_items[0].pk])).status_code == 200
    )
    assert client.get(reverse("reviews:verification_item", args=[a2_item.pk])).status_code == 404
    assert client.get(url).status_code == 403  # the sample as a whole is the school's

    client.force_login(other_college_reviewer)  # A2: same college as a2_item, not assigned
    assert client.get(reverse("reviews:verification_item", args=[a2_item.pk])).status_code == 403
    assert (
        client.get(reverse("reviews:verification_item", args=[a1_items[0].pk])).status_code == 404
    )


def test_only_the_assigned_verifier_records_a_check(
    client, population, school_reviewer, college_reviewer
):
    sample = verification.sample_draw(by=school_reviewer, percentage=20, seed=2)
    item = sample.items.filter(college=population.a1).first()
    verification.items_assign(
        sample=sample, item_ids=[item.pk], verifier=college_reviewer, by=school_reviewer
    )
    url = reverse("reviews:verification_item", args=[item.pk])
    data = {"method": "call_unit", "outcome": "confirmed", "notes": ""}
    client.force_login(school_reviewer)
    assert client.post(url, data).status_code == 403
    client.force_login(college_reviewer)
    assert client.post(url, data).status_code == 302
    item.refresh_from_db()
    assert item.outcome == Outcome.CONFIRMED
    check = item.checks.get()
    assert (check.method, check.checked_by) == ("call_unit", college_reviewer)
    assert AuditEvent.objects.for_object(item).filter(action=AuditAction.RECORD_CHECK).exists()
    assert client.post(url, data).status_code == 403  # confirmed: finished


# --- "not true" -----------------------------------------------------------------------------


def _another_school_reviewer(school_reviewer):
    """A school reviewer who did not approve the sampled destination (its verifier)."""
    return f.make_user(Role.SCHOOL_REVIEWER, school=school_reviewer.school)


def _approved_other(student, college_reviewer, school_reviewer) -> Registration:
    proof = SimpleUploadedFile("录取通知书.pdf", f.pdf_bytes())  # the evidence rule's proof
    item = reg.registration_save_draft(
        student=student, path="other", values=OTHER | {"proof": proof}
    )
    reg.registration_submit(registration=item, user=student.user)
    # Approved by another reviewer of the college: ``college_reviewer`` verifies it, and
    # nobody verifies a destination they approved themselves.
    approver = f.make_user(
        Role.COLLEGE_REVIEWER, school=college_reviewer.school, college=college_reviewer.college
    )
    for reviewer in (approver, school_reviewer):
        reg.registration_review(registration=item, reviewer=reviewer, decision="approve")
    item.refresh_from_db()
    assert item.status == "approved"
    return item


def _assigned_item(student, school_reviewer, verifier) -> VerificationItem:
    sample = verification.sample_draw(by=school_reviewer, percentage=100, seed=11)
    item = sample.items.get(student=student)
    verification.items_assign(
        sample=sample, item_ids=[item.pk], verifier=verifier, by=school_reviewer
    )
    return item


def test_not_true_returns_the_registration_to_the_graduate(
    client, student, college_reviewer, school_reviewer
):
    registration = _approved_other(student, college_reviewer, school_reviewer)
    item = _assigned_item(student, school_reviewer, college_reviewer)
    client.force_login(college_reviewer)
    url = reverse("reviews:verification_item", args=[item.pk])
    response = client.post(
        url, {"method": "call_graduate", "outcome": "not_true", "notes": "本人称未被录取"}
    )
    assert response.status_code == 302

    registration.refresh_from_db()
    assert registration.status == Registration.Status.RETURNED
    assert registration.comment == "本人称未被录取"
    student.record.refresh_from_db()
    assert student.record.destination is None  # no longer counts as placed
    assert DestinationClaim.objects.get(student=student).approved is False
    # The approved version is kept on the check and shown on its page.
    check = item.checks.get()
    assert check.outcome == Outcome.NOT_TRUE
    assert ["institution", "示例研究院"] in check.approved["fields"]
    assert check.approved["status"] == "approved"
    page = client.get(url).content.decode()
    assert "示例研究院" in page and "本人称未被录取" in page
    # The graduate and the college are told; the audit trail says who.
    told = Notification.objects.get(user=student.user, params__reason="本人称未被录取")
    assert "/students/not-my-will/" in told.report_url  # 这不是我本人的意愿, the graduate's own
    assert Notification.objects.filter(user=college_reviewer, params__name=student.real_name)
    event = AuditEvent.objects.for_object(registration).latest("id")
    assert (event.action, event.actor, event.from_state, event.to_state) == (
        AuditAction.FOUND_UNTRUE,
        college_reviewer,
        "approved",
        "returned",
    )

    # The graduate sees the reason, corrects the registration and submits it again.
    client.force_login(student.user)
    page = client.get(reverse("agreements:registration", args=[registration.pk])).content.decode()
    assert "本人称未被录取" in page
    reg.registration_save_draft(
        student=student,
        path="other",
        values=OTHER | {"institution": "另一研究院"},
        registration=registration,
    )
    reg.registration_submit(registration=registration, user=student.user)
    registration.refresh_from_db()
    assert registration.status == Registration.Status.COLLEGE_REVIEW
    assert registration.institution == "另一研究院"
    check.refresh_from_db()
    assert ["institution", "示例研究院"] in check.approved["fields"]  # the record stays


def test_not_true_needs_a_reason(student, college_reviewer, school_reviewer):
    registration = _approved_other(student, college_reviewer, school_reviewer)
    item = _assigned_item(student, school_reviewer, college_reviewer)
    with pytest.raises(ValidationError):
        verification.check_record(
            item=item, by=college_reviewer, method="documents", outcome="not_true", notes=" "
        )
    registration.refresh_from_db()
    assert registration.status == "approved"
    assert not item.checks.exists()


def test_not_true_ends_a_signed_online_agreement(client, student, signed, school_reviewer):
    verifier = _another_school_reviewer(school_reviewer)
    item = _assigned_item(student, school_reviewer, verifier)
    assert item.agreement_id == signed.pk
    verification.check_record(
        item=item, by=verifier, method="call_unit", outcome="not_true", notes="单位称无此人"
    )
    signed.refresh_from_db()
    assert signed.status == Agreement.Status.FOUND_UNTRUE
    assert signed.reason == "单位称无此人"
    assert not DestinationClaim.objects.filter(student=student).exists()
    student.record.refresh_from_db()
    assert student.record.destination is None
    approved = item.checks.get().approved
    assert approved["fields"][0] == ["employer", signed.employer.name]
    # A choice is kept as its value and labelled in the reader's language when shown.
    assert ["hukou", signed.hukou] in approved["fields"]
    with translation.override("en"):
        assert ("residence and file", str(Hukou(signed.hukou).label)) in snapshot_rows(approved)
    # The graduate reads why, and may register their destination again by any path.
    client.force_login(student.user)
    page = client.get(reverse("agreements:agreement", args=[signed.pk])).content.decode()
    assert "单位称无此人" in page
    assert all(path_openings(student).values())


def test_not_reachable_leaves_the_destination_and_may_be_checked_again(
    student, college_reviewer, school_reviewer
):
    registration = _approved_other(student, college_reviewer, school_reviewer)
    item = _assigned_item(student, school_reviewer, college_reviewer)
    verification.check_record(
        item=item, by=college_reviewer, method="call_graduate", outcome="not_reachable"
    )
    verification.check_record(
        item=item, by=college_reviewer, method="documents", outcome="confirmed"
    )
    registration.refresh_from_db()
    assert registration.status == "approved"
    item.refresh_from_db()
    assert item.outcome == "confirmed"
    assert item.checks.count() == 2


def test_the_statistics_show_the_verified_share_and_outcomes(client, population, school_reviewer):
    sample = verification.sample_draw(by=school_reviewer, percentage=20, seed=3)  # 8 of 30
    items = list(sample.items.all()[:3])
    verification.items_assign(
        sample=sample, item_ids=[i.pk for i in items], verifier=school_reviewer, by=school_reviewer
    )
    client.force_login(school_reviewer)
    client.get(reverse("reviews:statistics"))  # cached before the checks: they must show
    for item, outcome in zip(items, ["confirmed", "confirmed", "not_reachable"], strict=True):
        verification.check_record(
            item=item, by=school_reviewer, method="documents", outcome=outcome
        )
    response = client.get(reverse("reviews:statistics"))
    figures = response.context["verification"]
    assert (figures["sampled"], figures["checked"], figures["approved"]) == (8, 3, 30)
    assert figures["of_sampled"] == 37.5
    assert figures["of_approved"] == 10.0
    assert [(value, n) for value, _label, n in figures["outcomes"]] == [
        ("confirmed", 2),
        ("not_reachable", 1),
        ("not_true", 0),
    ]
    page = response.content.decode()
    assert 'id="outcome-confirmed">2<' in page


def test_a_college_reviewer_statistics_count_only_their_college(
    client, population, school_reviewer, college_reviewer
):
    sample = verification.sample_draw(by=school_reviewer, percentage=20, seed=3)
    client.force_login(college_reviewer)
    figures = client.get(reverse("reviews:statistics")).context["verification"]
    assert figures["sampled"] == sample.items.filter(college=population.a1).count() == 4
    assert figures["approved"] == 16


def test_roles_without_a_school_are_refused(client, student, employer_user):
    for user in (student.user, employer_user):
        client.force_login(user)
        assert client.get(reverse("reviews:verification_tasks")).status_code == 403


def test_a_verifier_moved_to_another_college_checks_no_more(
    population, school_reviewer, college_reviewer
):
    sample = verification.sample_draw(by=school_reviewer, percentage=20, seed=2)
    item = sample.items.filter(college=population.a1).first()
    verification.items_assign(
        sample=sample, item_ids=[item.pk], verifier=college_reviewer, by=school_reviewer
    )
    college_reviewer.college = population.a2
    college_reviewer.save(update_fields=["college"])
    with pytest.raises(PermissionDenied):
        verification.check_record(
            item=item, by=college_reviewer, method="documents", outcome="confirmed"
        )


def test_the_lists_take_a_constant_number_of_queries(
    client, population, school_reviewer, django_assert_max_num_queries
):
    sample = verification.sample_draw(by=school_reviewer, percentage=100, seed=4)  # 30
    verification.items_assign(
        sample=sample,
        item_ids=list(sample.items.values_list("pk", flat=True)),
        verifier=school_reviewer,
        by=school_reviewer,
    )
    client.force_login(school_reviewer)
    for url in (
        reverse("reviews:verification_samples"),
        reverse("reviews:verification_sample", args=[sample.pk]),
        reverse("reviews:verification_tasks"),
    ):
        with django_assert_max_num_queries(14):
            response = client.get(url)
        assert response.status_code == 200
    assert (
        response.content.decode().count(reverse("reviews:verification_item", args=[0])[:-2]) >= 30
    )


@pytest.mark.parametrize("junk", ["²", "-1", "0", "101", "9" * 40, "1.5", "", "' OR 1=1 --"])
def test_bad_input_is_refused_without_an_error(
    client, population, school_reviewer, college_reviewer, junk
):
    sample = verification.sample_draw(by=school_reviewer, percentage=20, seed=8)
    item = sample.items.filter(college=population.a1).first()
    verification.items_assign(
        sample=sample, item_ids=[item.pk], verifier=college_reviewer, by=school_reviewer
    )
    client.force_login(school_reviewer)
    drawn = sample.items.count()
    response = client.post(
        reverse("reviews:verification_samples"),
        {"percentage": junk, "seed": junk, "college": junk},
    )
    assert response.status_code in (302, 400)
    response = client.post(
        reverse("reviews:verification_sample", args=[sample.pk]),
        {"verifier": junk, "item": [junk, str(item.pk)]},
    )
    assert response.status_code in (302, 400)
    assert sample.items.count() == drawn
    client.force_login(college_reviewer)
    response = client.post(
        reverse("reviews:verification_item", args=[item.pk]),
        {"method": junk, "outcome": junk, "notes": junk},
    )
    assert response.status_code == 400
    assert not item.checks.exists()


def test_only_an_approved_destination_can_be_found_not_true(
    student, signed, school_reviewer, college_reviewer, other_college_reviewer,
    other_school_reviewer,
):  # fmt: skip
    """Every status of an agreement and of a registration × who asks."""
    registration = _placed(student.record.major, "80")
    for source, allowed_in in ((signed, "signed"), (registration, "approved")):
        for status in type(source).Status.values:
            type(source).objects.filter(pk=source.pk).update(status=status)
            source.refresh_from_db()
            for user, in_scope in [
                (school_reviewer, True),
                (college_reviewer, True),
                (other_college_reviewer, False),
                (other_school_reviewer, False),
                (student.user, False),
            ]:
                assert bool(can_find_untrue(user, source)) == (status == allowed_in and in_scope), (
                    type(source).__name__,
                    status,
                    user.role,
                )


def test_a_termination_under_way_is_decided_first(student, signed, school_reviewer):
    online.termination_request(
        agreement=signed,
        user=student.user,
        reason="换工作",
        document=SimpleUploadedFile("d.pdf", f.pdf_bytes(), content_type="application/pdf"),
    )
    verifier = _another_school_reviewer(school_reviewer)
    item = _assigned_item(student, school_reviewer, verifier)
    with pytest.raises(PermissionDenied):
        verification.check_record(
            item=item, by=verifier, method="call_unit", outcome="not_true", notes="不实"
        )
    signed.refresh_from_db()
    assert signed.status == "signed"
    assert not item.checks.exists()
