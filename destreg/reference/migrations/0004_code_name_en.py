from django.db import migrations, models


def fill_english_names(apps, schema_editor):
    """Only the new column: names edited in the admin stay as they are."""
    from destreg.reference.loading import english_names

    Code = apps.get_model("reference", "Code")
    names = english_names()
    changed = []
    for code in Code.objects.filter(name_en=""):
        name_en = names.get((code.table, code.code))
        if name_en:
            code.name_en = name_en
            changed.append(code)
    Code.objects.bulk_update(changed, ["name_en"], batch_size=500)


class Migration(migrations.Migration):
    dependencies = [("reference", "0003_school_agreement_clauses")]

    operations = [
        migrations.AddField(
            model_name="code",
            name="name_en",
            field=models.CharField(
                blank=True,
                help_text="Shown in the English interface; empty: the Chinese name.",
                max_length=200,
                verbose_name="English name",
            ),
        ),
        migrations.RunPython(fill_english_names, migrations.RunPython.noop),
    ]
