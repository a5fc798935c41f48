from django.db import migrations, models
from django.db.models import Count


def refuse_duplicates(apps, schema_editor):
    """Name the records that break the new constraint instead of failing on a bare
    IntegrityError: a school reviewer must decide which of them is the graduate's."""
    RegistryRecord = apps.get_model("students", "RegistryRecord")
    duplicates = (
        RegistryRecord.objects.values("graduation_year", "id_number_digest")
        .annotate(n=Count("pk"))
        .filter(n__gt=1)
    )
    pks = []
    for group in duplicates[:20]:
        pks += RegistryRecord.objects.filter(
            graduation_year=group["graduation_year"], id_number_digest=group["id_number_digest"]
        ).values_list("pk", flat=True)
    if pks:
        raise RuntimeError(
            "Registry records share an ID number within one graduation year (record ids "
            f"{sorted(pks)}); delete or correct the wrong ones, then migrate again."
        )


class Migration(migrations.Migration):
    dependencies = [
        ("reference", "0003_school_agreement_clauses"),
        ("students", "0008_school_sign_on"),
    ]

    operations = [
        migrations.RunPython(refuse_duplicates, migrations.RunPython.noop, elidable=True),
        migrations.AddConstraint(
            model_name="registryrecord",
            constraint=models.UniqueConstraint(
                fields=("graduation_year", "id_number_digest"),
                name="one_record_per_id_number_and_year",
            ),
        ),
        migrations.RemoveIndex(
            model_name="registryrecord",
            name="students_re_graduat_02f71c_idx",
        ),
    ]
