from django.core.management.base import BaseCommand

from agreements.evidence import RULES_FILE, load_evidence_rules


class Command(BaseCommand):
    help = (
        "Seed the evidence rules (fields and proofs per graduate destination code) from "
        "agreements/data/evidence_rules.json. Rules already there stay as the admins left them "
        "unless --replace."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--replace", action="store_true", help="overwrite the rules with the file's"
        )

    def handle(self, *args, **options):
        count = load_evidence_rules(RULES_FILE, replace=options["replace"])
        self.stdout.write(f"{count} evidence rules in the file, loaded.")
