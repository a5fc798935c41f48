"""Reference rows on a graduate's pages come from each process's cache
(destreg/reference/cache.py), not from a ten-table join."""

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from destreg.reference import cache as references
from destreg.reference.models import Code
from students.models import RegistryRecord


def home(client) -> str:
    response = client.get(reverse("students:home"))
    assert response.status_code == 200
    return response.content.decode()


def test_a_graduates_home_reads_each_reference_row_once(client, student):
    client.force_login(student.user)
    page = home(client)
    assert student.record.ethnicity.name in page and student.record.major.name in page
    with CaptureQueriesContext(connection) as queries:
        again = home(client)
    assert student.record.ethnicity.name in again and student.record.major.name in again
    assert not [q for q in queries if '"reference_' in q["sql"]]


def test_a_code_saved_in_this_process_shows_at_once(client, student):
    client.force_login(student.user)
    home(client)
    ethnicity = Code.objects.get(pk=student.record.ethnicity_id)
    ethnicity.name = "改过的民族名"
    ethnicity.save(update_fields=["name"])
    assert "改过的民族名" in home(client)


def test_a_change_made_elsewhere_shows_once_the_cached_row_expires(client, student, monkeypatch):
    client.force_login(student.user)
    home(client)
    # Another process renames the major: no signal reaches this one.
    type(student.record.major).objects.filter(pk=student.record.major_id).update(name="新专业名")
    assert "新专业名" not in home(client)
    later = references.time.monotonic() + 61
    monkeypatch.setattr(references.time, "monotonic", lambda: later)
    assert "新专业名" in home(client)


def test_each_caller_gets_its_own_copy(student):
    first = RegistryRecord.objects.for_display().get(pk=student.record_id)
    first.school.name = "changed in one request"
    second = RegistryRecord.objects.for_display().get(pk=student.record_id)
    assert second.school.name == student.record.school.name
