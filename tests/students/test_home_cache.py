"""A confirmed graduate's home page comes from the shared cache (students/home.py), and
every write that changes what it shows is on the page at the next request."""

from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from agreements.online import services as services_online
from destreg.reference.models import Code, CodeTable
from students import services
from students.home import Home, home_cache_key
from students.importing import registry_import
from students.models import RegistryRecord, RegistryRequest
from tests import factories as f

HOME = reverse("students:home")


def home(client) -> str:
    response = client.get(HOME)
    assert response.status_code == 200
    return response.content.decode()


def warm(client, student) -> str:
    """Sign in and visit with the page cached. Making the account just now marked the entry
    forgotten for a few seconds (destreg/lib/cache.py); the account was made long ago."""
    client.force_login(student.user)
    cache.delete(home_cache_key(student.pk))
    page = home(client)
    assert isinstance(cache.get(home_cache_key(student.pk)), Home)
    return page


def test_the_second_visit_reads_neither_record_nor_requests(client, student):
    services.registry_request_submit(
        student=student, kind="update", school=student.record.school, data={"ethnicity": "03"}
    )
    warm(client, student)
    with CaptureQueriesContext(connection) as queries:
        page = home(client)
    assert student.record.student_no in page and student.record.major.name in page
    assert reverse("students:update_request") not in page  # a correction is waiting
    tables = " ".join(query["sql"] for query in queries)
    assert "students_registryrecord" not in tables
    assert "students_registryrequest" not in tables


def test_a_record_saved_shows_at_once(client, student):
    warm(client, student)
    record = RegistryRecord.objects.get(pk=student.record_id)
    record.student_no = "S-改过"
    record.save(update_fields=["student_no", "updated_at"])
    assert "S-改过" in home(client)


def test_a_request_filed_and_an_approved_correction_show_at_once(client, student, school_reviewer):
    assert reverse("students:update_request") in warm(client, student)
    request = services.registry_request_submit(
        student=student, kind="update", school=student.record.school, data={"ethnicity": "03"}
    )
    page = home(client)
    assert reverse("students:request_detail", args=[request.pk]) in page
    assert reverse("students:update_request") not in page  # waiting for review instead

    cache.delete(home_cache_key(student.pk))  # the request was filed long ago
    home(client)
    services.registry_request_approve(request=request, reviewer=school_reviewer)
    page = home(client)
    assert Code.objects.get(table=CodeTable.ETHNICITY, code="03").name in page
    assert reverse("students:update_request") in page


def test_a_deleted_request_leaves_the_page_at_once(client, student):
    request = services.registry_request_submit(
        student=student, kind="update", school=student.record.school, data={"ethnicity": "03"}
    )
    assert reverse("students:request_detail", args=[request.pk]) in warm(client, student)
    RegistryRequest.objects.get(pk=request.pk).delete()
    assert reverse("students:request_detail", args=[request.pk]) not in home(client)


def test_a_registered_destination_and_its_end_show_at_once(
    client, student, agreement, college_reviewer, school_reviewer, employer_user
):
    signed = Code.objects.get(table=CodeTable.DESTINATION, code="10")
    services_online.agreement_approve(agreement=agreement, reviewer=college_reviewer)
    warm(client, student)
    services_online.agreement_approve(agreement=agreement, reviewer=school_reviewer)
    assert f"{signed.name} (10)" in home(client)

    termination = services_online.termination_request(
        agreement=agreement, user=student.user, reason="考研"
    )
    services_online.termination_answer(termination=termination, user=employer_user, agree=True)
    services_online.termination_approve(termination=termination, reviewer=college_reviewer)
    warm(client, student)
    services_online.termination_approve(termination=termination, reviewer=school_reviewer)
    assert f"{signed.name} (10)" not in home(client)


def test_a_reimported_record_shows_at_once(client, student, world):
    warm(client, student)
    record = student.record
    row = f.registry_row(world, record.student_no, record.name, record.id_number, 性别="女")
    upload = f.registry_csv([row])
    report = registry_import(school=world.school_a, handle=upload, filename="x", actor=None)
    assert report.ok and report.imported == 1
    assert '<dt class="col-sm-3">性别</dt><dd class="col-sm-9">女</dd>' in home(client)


def test_an_unconfirmed_graduate_sees_a_record_imported_after_their_last_visit(client, world):
    graduate = f.make_student(confirmed=False)
    client.force_login(graduate.user)
    assert reverse("students:import_request") in home(client)
    f.make_record(world.major_a1, name=graduate.real_name, id_number=graduate.id_number)
    assert reverse("students:confirm") in home(client)
