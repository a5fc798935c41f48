"""Who may change a school's settings in the admin: pure functions the admin shares."""

from destreg.accounts.models import Role


def manages_every_school(user) -> bool:
    """Platform admins add schools and edit all of them."""
    return bool(user.is_superuser or user.role == Role.PLATFORM_ADMIN)


def schools_in_admin_of(user):
    """The schools ``user`` may see in the admin (a queryset of ids)."""
    from destreg.reference.models import School

    schools = School.objects.all()
    if manages_every_school(user):
        return schools.values("pk")
    if user.role == Role.SCHOOL_REVIEWER and user.school_id:
        return schools.filter(pk=user.school_id).values("pk")
    return schools.none().values("pk")


def can_change_school_seal(user, school) -> bool:
    """A school's electronic seal: the platform, or that school's own staff (a school reviewer
    the platform let into the admin); never another school's."""
    if manages_every_school(user):
        return True
    return user.role == Role.SCHOOL_REVIEWER and school is not None and user.school_id == school.pk
