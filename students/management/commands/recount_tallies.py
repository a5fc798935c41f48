from django.core.management.base import BaseCommand, CommandError

from students.tallies import differences, tally_rebuild


class Command(BaseCommand):
    help = (
        "Recount the destination tallies from the registry records (one GROUP BY) and print "
        "every difference; exits non-zero if there is any. Run nightly from the scheduler; "
        "--fix rewrites the differing counters from the records."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--fix", action="store_true", help="rewrite the differing counters from the records"
        )

    def handle(self, *args, fix=False, **options):
        found = differences()
        for (level, key), (kept, counted) in found.items():
            where = " ".join(f"{name}={value}" for name, value in level.where(key).items())
            self.stdout.write(f"{level.model.__name__} {where}: kept {kept}, recounted {counted}")
        if not found:
            self.stdout.write("The destination tallies equal the recount.")
            return
        if fix:
            changed = tally_rebuild()
            self.stdout.write(f"{changed} counters rewritten from the records.")
            return
        raise CommandError(f"{len(found)} destination tallies differ from the recount.")
