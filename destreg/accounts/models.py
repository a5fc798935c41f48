"""Users and their roles.

One user model for everybody; ``role`` says what they are and the foreign
keys say where they belong. The database refuses a reviewer without a
school, a college reviewer without a college and an employer user without an
employer, so scoping can rely on them.
"""

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Role(models.TextChoices):
    STUDENT = "student", _("Student")
    EMPLOYER = "employer", _("Employer")
    COLLEGE_REVIEWER = "college_reviewer", _("College reviewer")
    SCHOOL_REVIEWER = "school_reviewer", _("School reviewer")
    PLATFORM_ADMIN = "platform_admin", _("Platform administrator")
    # Read-only oversight (reviews/oversight.py): they watch, they decide nothing.
    PROVINCE_STAFF = "province_staff", _("Provincial employment office")
    MINISTRY_STAFF = "ministry_staff", _("Ministry of Education")


class UnitRole(models.TextChoices):
    """What an employer's user may do for the unit: an administrator also manages colleagues
    and the unit's verification documents."""

    ADMIN = "admin", _("Unit administrator")
    HR = "hr", _("HR")


class User(AbstractUser):
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.STUDENT)
    display_name = models.CharField(pgettext_lazy("person", "name"), max_length=50, blank=True)
    school = models.ForeignKey(
        "reference.School",
        verbose_name=_("school"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="staff",
        help_text=_("For reviewers: the school they work for."),
    )
    college = models.ForeignKey(
        "reference.College",
        verbose_name=_("college"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="staff",
        help_text=_("For college reviewers: the college they review."),
    )
    employer = models.ForeignKey(
        "employers.Employer",
        verbose_name=_("employer"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="users",
    )
    province = models.ForeignKey(
        "reference.Region",
        verbose_name=_("province"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        limit_choices_to={"level": 1},
        help_text=_("For provincial staff: the province whose schools they watch."),
    )
    unit_role = models.CharField(
        _("role in the unit"), max_length=10, choices=UnitRole.choices, blank=True
    )

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [
            models.CheckConstraint(
                name="user_role_has_its_scope",
                condition=(
                    Q(role="college_reviewer", school__isnull=False, college__isnull=False)
                    | Q(role="school_reviewer", school__isnull=False, college__isnull=True)
                    | Q(role="employer", employer__isnull=False)
                    | Q(role="province_staff", province__isnull=False)
                    | Q(role__in=["student", "platform_admin", "ministry_staff"])
                ),
            ),
        ]

    def __str__(self) -> str:
        return self.display_name or self.username

    @property
    def is_student(self) -> bool:
        return self.role == Role.STUDENT

    @property
    def is_employer(self) -> bool:
        return self.role == Role.EMPLOYER

    @property
    def is_unit_admin(self) -> bool:
        return self.role == Role.EMPLOYER and self.unit_role == UnitRole.ADMIN

    @property
    def is_college_reviewer(self) -> bool:
        return self.role == Role.COLLEGE_REVIEWER

    @property
    def is_school_reviewer(self) -> bool:
        return self.role == Role.SCHOOL_REVIEWER

    @property
    def is_reviewer(self) -> bool:
        return self.role in (Role.COLLEGE_REVIEWER, Role.SCHOOL_REVIEWER)

    @property
    def is_platform_admin(self) -> bool:
        return self.role == Role.PLATFORM_ADMIN

    @property
    def is_overseer(self) -> bool:
        """Provincial or ministry staff: they read statistics and decide nothing."""
        return self.role in (Role.PROVINCE_STAFF, Role.MINISTRY_STAFF)
