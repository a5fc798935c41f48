"""Counts of graduates per (year, school, college, major, level, gender, destination), and
per (year, school, level, gender, destination) for the provincial and national pages, kept
in the same transaction as each change of those fields (students/tallies.py), so the
statistics at every level read counters instead of scanning graduates."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from destreg.reference.models import CodeTable, College, Major, School, code_field
from students.models.people import Gender

KEY_WITHOUT_DESTINATION = [
    "graduation_year",
    "school",
    "college",
    "major",
    "education_level",
    "gender",
]


class DestinationTally(models.Model):
    """How many registry records share these counted fields; ``destination`` empty: not
    (or no longer) registered. Rows are never deleted by the upkeep: a count may be 0."""

    graduation_year = models.PositiveSmallIntegerField(_("graduation year"))
    school = models.ForeignKey(
        School, verbose_name=_("school"), on_delete=models.CASCADE, related_name="+"
    )
    college = models.ForeignKey(
        College, verbose_name=_("college"), on_delete=models.CASCADE, related_name="+"
    )
    major = models.ForeignKey(
        Major, verbose_name=_("major"), on_delete=models.CASCADE, related_name="+"
    )
    education_level = code_field(CodeTable.EDUCATION_LEVEL, _("education level"))
    gender = models.PositiveSmallIntegerField(_("gender"), choices=Gender.choices)
    destination = code_field(
        CodeTable.DESTINATION, _("graduate destination"), null=True, blank=True
    )
    count = models.IntegerField(_("count"), default=0)

    class Meta:
        verbose_name = _("destination tally")
        verbose_name_plural = _("destination tallies")
        constraints = [
            # One counter per key, "no destination" included: two partial unique indexes,
            # which both SQLite and PostgreSQL enforce (a NULL is distinct in a plain one).
            models.UniqueConstraint(
                fields=[*KEY_WITHOUT_DESTINATION, "destination"],
                condition=Q(destination__isnull=False),
                name="one_tally_per_key",
            ),
            models.UniqueConstraint(
                fields=KEY_WITHOUT_DESTINATION,
                condition=Q(destination__isnull=True),
                name="one_unplaced_tally_per_key",
            ),
            models.CheckConstraint(condition=Q(count__gte=0), name="tally_count_not_negative"),
        ]
        indexes = [models.Index(fields=["graduation_year", "school", "college"])]

    def __str__(self) -> str:
        return f"{self.graduation_year} {self.school_id}/{self.college_id}: {self.count}"


SCHOOL_KEY_WITHOUT_DESTINATION = ["graduation_year", "school", "education_level", "gender"]


class SchoolTally(models.Model):
    """The same counts without the college and the major: what the provincial and Ministry
    pages add up (a few dozen counters a school, however many majors and graduates it has).
    Kept with DestinationTally, in the same transaction; never deleted by the upkeep."""

    graduation_year = models.PositiveSmallIntegerField(_("graduation year"))
    school = models.ForeignKey(
        School, verbose_name=_("school"), on_delete=models.CASCADE, related_name="+"
    )
    education_level = code_field(CodeTable.EDUCATION_LEVEL, _("education level"))
    gender = models.PositiveSmallIntegerField(_("gender"), choices=Gender.choices)
    destination = code_field(
        CodeTable.DESTINATION, _("graduate destination"), null=True, blank=True
    )
    count = models.IntegerField(_("count"), default=0)

    class Meta:
        verbose_name = _("school destination tally")
        verbose_name_plural = _("school destination tallies")
        constraints = [
            models.UniqueConstraint(
                fields=[*SCHOOL_KEY_WITHOUT_DESTINATION, "destination"],
                condition=Q(destination__isnull=False),
                name="one_school_tally_per_key",
            ),
            models.UniqueConstraint(
                fields=SCHOOL_KEY_WITHOUT_DESTINATION,
                condition=Q(destination__isnull=True),
                name="one_unplaced_school_tally_per_key",
            ),
            models.CheckConstraint(
                condition=Q(count__gte=0), name="school_tally_count_not_negative"
            ),
        ]
        indexes = [models.Index(fields=["graduation_year", "school"])]

    def __str__(self) -> str:
        return f"{self.graduation_year} {self.school_id}: {self.count}"
