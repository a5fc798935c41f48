"""Other destinations: the foreign names of an institution and major abroad, and the country
or region as a code of the country table instead of free text.

The typed country is matched against the table (Chinese name, English name, or code); a value
that matches nothing stays in ``country_legacy``, so no approved registration loses it.
"""

import django.db.models.deletion
from django.db import migrations, models


def match_countries(apps, schema_editor):
    Code = apps.get_model("reference", "Code")
    Registration = apps.get_model("agreements", "Registration")
    codes = {}
    for code in Code.objects.filter(table="country"):
        for key in (code.code, code.name, code.name_en):
            if key:
                codes.setdefault(key.strip().casefold(), code)
    for registration in Registration.objects.exclude(country_legacy="").only("country_legacy"):
        code = codes.get(registration.country_legacy.strip().casefold())
        if code is not None:
            registration.country = code
            registration.country_legacy = ""
            registration.save(update_fields=["country", "country_legacy"])


def unmatch_countries(apps, schema_editor):
    Registration = apps.get_model("agreements", "Registration")
    for registration in Registration.objects.filter(country__isnull=False).select_related(
        "country"
    ):
        registration.country_legacy = registration.country.name
        registration.save(update_fields=["country_legacy"])


class Migration(migrations.Migration):
    dependencies = [
        ('agreements', '0011_proof_digests'),
        ("reference", "0008_country_table"),
    ]

    operations = [
        migrations.RenameField(
            model_name="registration", old_name="country", new_name="country_legacy"
        ),
        migrations.AlterField(
            model_name="registration",
            name="country_legacy",
            field=models.CharField(
                blank=True,
                editable=False,
                max_length=50,
                verbose_name="country or region as typed earlier",
            ),
        ),
        migrations.AddField(
            model_name="registration",
            name="country",
            field=models.ForeignKey(
                blank=True,
                limit_choices_to={"table": "country"},
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="reference.code",
                verbose_name="country or region",
            ),
        ),
        migrations.AddField(
            model_name="registration",
            name="institution_foreign",
            field=models.CharField(
                blank=True, max_length=200, verbose_name="institution's foreign name"
            ),
        ),
        migrations.AddField(
            model_name="registration",
            name="program_foreign",
            field=models.CharField(blank=True, max_length=200, verbose_name="major's foreign name"),
        ),
        migrations.RunPython(match_countries, unmatch_countries),
    ]
