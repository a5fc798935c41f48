from django.db import migrations


def seed(apps, schema_editor):
    from agreements.evidence import load_evidence_rules

    load_evidence_rules(
        rule_model=apps.get_model("agreements", "EvidenceRule"),
        code_model=apps.get_model("reference", "Code"),
    )


class Migration(migrations.Migration):
    dependencies = [("agreements", "0009_evidence_rules"), ("reference", "0002_load_reference")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
