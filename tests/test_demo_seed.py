"""seed_demo makes its accounts, units and invitation through the services, idempotently."""

from agreements.models import Invitation
from destreg.accounts.models import User
from destreg.audit.models import AuditAction, AuditEvent, Notification
from destreg.demo.data import PASSWORD, seed
from destreg.reference.models import School
from employers.models import Employer, EmployerVerification
from students.binding import registry_bind
from students.models import BindingMethod, RegistryRecord, Student


def _actions(obj) -> list[str]:
    return list(AuditEvent.objects.for_object(obj).order_by("pk").values_list("action", flat=True))


def test_its_state_comes_from_the_services(reference_data):
    seed()
    student1, student2 = (Student.objects.get(user__username=f"student{n}") for n in (1, 2))
    assert not student1.is_confirmed and _actions(student1) == [AuditAction.REGISTER]
    assert student2.confirmed_via == BindingMethod.CODE
    assert _actions(student2) == [AuditAction.REGISTER, AuditAction.CONFIRM_REGISTRY]
    for employer in Employer.objects.all():
        assert employer.is_verified and employer.has_evidence
        assert _actions(employer) == [AuditAction.REGISTER, AuditAction.VERIFY]
        assert EmployerVerification.objects.get(employer=employer).school_id is None
    invitation = Invitation.objects.get()
    assert invitation.student == student2 and _actions(invitation) == [AuditAction.INVITE]
    assert Notification.objects.filter(user=student2.user).exists()  # told of the invitation
    for username in ("student1", "employer1", "college1", "admin"):
        assert User.objects.get(username=username).check_password(PASSWORD)
    school = School.objects.get(code="19999")  # its seal, for the agreements it approves
    assert school.seal.name.startswith("seals/") and _actions(school) == [AuditAction.CHANGE_SEAL]


def test_running_it_again_changes_nothing(reference_data):
    seed()
    counts = (AuditEvent.objects.count(), Invitation.objects.count(), Student.objects.count())
    seed()
    assert counts == (
        AuditEvent.objects.count(),
        Invitation.objects.count(),
        Student.objects.count(),
    )


def test_it_puts_student1_back_to_the_first_login_check(reference_data):
    seed()
    student1 = Student.objects.get(user__username="student1")
    record = RegistryRecord.objects.get(school__code="19999", student_no__endswith="0001")
    registry_bind(student=student1, record=record, method=BindingMethod.CODE, actor=student1.user)
    student1.user.set_password("changed-by-a-visitor")
    student1.user.save()
    seed()
    student1 = Student.objects.select_related("user").get(pk=student1.pk)
    assert not student1.is_confirmed
    assert student1.user.check_password(PASSWORD)
