from datetime import date

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from destreg.reference.models import School
from reviews.services import snapshot_take
from reviews.snapshots import due
from students.models import current_graduation_year


class Command(BaseCommand):
    help = (
        "Take every reporting snapshot that is due (its reporting date is over) and not yet "
        "taken, for every school. Idempotent: run it daily from the scheduler."
    )

    def add_arguments(self, parser):
        parser.add_argument("--school", help="only this school (its code)")
        parser.add_argument(
            "--date",
            type=date.fromisoformat,
            help="take the snapshot of this cut-off (YYYY-MM-DD, today or earlier) now, "
            "whether or not it is one of the school's reporting dates",
        )
        parser.add_argument(
            "--year", type=int, help="with --date: the graduating class (default: the current)"
        )

    def handle(self, *args, school=None, date=None, year=None, **options):
        schools = School.objects.order_by("code")
        if school:
            schools = schools.filter(code=school)
            if not schools.exists():
                raise CommandError(f"no school with code {school!r}")
        today = timezone.localdate()
        taken = 0
        for each in schools:
            wanted = [(year or current_graduation_year(), date)] if date else due(each, today)
            for class_of, cutoff in wanted:
                try:
                    snapshot = snapshot_take(school=each, year=class_of, cutoff=cutoff)
                except ValidationError as error:
                    raise CommandError(" ".join(error.messages)) from error
                if snapshot is not None:
                    taken += 1
                    rows = snapshot.rows.count()
                    self.stdout.write(
                        f"{each.code}: class of {class_of}, cut-off {cutoff}: {rows} graduates."
                    )
        self.stdout.write(f"{taken} snapshots taken.")
