from django.db import migrations


def load(apps, schema_editor):
    from destreg.reference.loading import load_codes, load_regions

    load_codes(code_model=apps.get_model("reference", "Code"))
    load_regions(region_model=apps.get_model("reference", "Region"))


class Migration(migrations.Migration):
    dependencies = [("reference", "0001_initial")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
