from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from destreg.reference.models import School
from students.importing import registry_import


class Command(BaseCommand):
    help = "Import 学籍 records for one school from a CSV or XLSX file (upsert by 学号)."

    def add_arguments(self, parser):
        parser.add_argument("school", help="the five-digit school code (院校代码)")
        parser.add_argument("file", type=Path)
        parser.add_argument(
            "--valid-only",
            action="store_true",
            help="import the valid rows even when some rows are invalid",
        )

    def handle(self, *args, school, file, valid_only, **options):
        try:
            school_obj = School.objects.get(code=school)
        except School.DoesNotExist:
            raise CommandError(f"No school with code {school}.") from None
        with file.open("rb") as handle:
            report = registry_import(
                school=school_obj,
                handle=handle,
                filename=file.name,
                actor=None,
                valid_only=valid_only,
            )
        for error in report.errors:
            self.stderr.write(f"line {error.line}: {'; '.join(error.messages)}")
        self.stdout.write(
            f"{report.total} rows read, {report.imported} imported, "
            f"{len(report.errors)} with errors, {report.held} name/ID changes of confirmed "
            "records held back for review."
        )
        if report.errors and not report.imported:
            raise CommandError("Nothing was imported.")
