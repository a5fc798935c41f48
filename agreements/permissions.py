"""What the permission functions of online signing (agreements/online/permissions.py) and of
the other paths (agreements/registrations/permissions.py) share.

State first, then role. A stranger's Decision is invisible (the view answers
404, as for a missing object); an insider without the right gets 403.
"""

from destreg.accounts.models import User


def is_student_of(user: User, student_id: int) -> bool:
    return (
        user.is_student
        and getattr(user, "student", None) is not None
        and (user.student.pk == student_id)
    )


def is_employer_of(user: User, employer_id: int) -> bool:
    return user.is_employer and user.employer_id == employer_id
