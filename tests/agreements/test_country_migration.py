"""Migration agreements 0012: a country typed as free text becomes a code of the country
table where it matches one; what matches nothing is kept, not lost."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from destreg.reference.models import CodeTable
from tests import factories as f

BEFORE = [("agreements", "0011_proof_digests")]
AFTER = [("agreements", "0012_registration_foreign_names_country_code")]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_typed_countries_become_codes_and_the_rest_is_kept(world):
    student = f.make_student(f.make_record(world.major_a1))
    old_apps = _migrate(BEFORE)
    try:
        Registration = old_apps.get_model("agreements", "Registration")
        Code = old_apps.get_model("reference", "Code")
        destination = Code.objects.get(table=CodeTable.DESTINATION, code="85")
        typed = {"新加坡": "702", "United Kingdom": "826", " japan ": "392", "某国": None}
        ids = {}
        for text in typed:
            ids[text] = Registration.objects.create(
                student_id=student.pk,
                school_id=world.school_a.pk,
                college_id=world.a1.pk,
                path="other",
                kind="study_abroad",
                destination=destination,
                country=text,
            ).pk
    finally:
        new_apps = _migrate(AFTER)
    try:
        Registration = new_apps.get_model("agreements", "Registration")
        for text, code in typed.items():
            item = Registration.objects.select_related("country").get(pk=ids[text])
            if code is None:
                assert (item.country, item.country_legacy) == (None, text)
            else:
                assert (item.country.code, item.country_legacy) == (code, "")
    finally:  # the tests after this one need every later migration back
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
