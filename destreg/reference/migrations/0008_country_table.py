from django.db import migrations, models


def load_countries(apps, schema_editor):
    """Only the new table: the other tables' names, maybe edited in the admin, stay."""
    from destreg.reference.loading import load_codes

    load_codes(code_model=apps.get_model("reference", "Code"), tables=("country",))


class Migration(migrations.Migration):
    dependencies = [
        ('reference', '0007_minimum_wage'),
    ]

    operations = [
        migrations.AlterField(
            model_name="code",
            name="table",
            field=models.CharField(
                choices=[
                    ("destination", "Graduate destination"),
                    ("unit_nature", "Unit nature"),
                    ("industry", "Industry"),
                    ("job_category", "Job category"),
                    ("education_level", "Education level"),
                    ("political_status", "Political status"),
                    ("ethnicity", "Ethnicity"),
                    ("urban_rural", "Urban or rural origin"),
                    ("study_mode", "Training mode"),
                    ("country", "Country or region"),
                ],
                max_length=32,
                verbose_name="table",
            ),
        ),
        migrations.RunPython(load_countries, migrations.RunPython.noop),
    ]
