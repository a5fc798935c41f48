"""Who may do what with registry requests and students' own pages.

Each function looks at state first, then role, and returns a ``Decision``
shared by the view, the template's buttons and the service.
"""

from django.http import Http404
from django.utils.translation import gettext as _

from destreg.accounts.models import User
from destreg.audit.stages import can_decide
from destreg.lib.permissions import ALLOW, Decision, deny, load_for
from students.models import (
    CoercionReport,
    HeldRegistryChange,
    RegistryConflict,
    RegistryImportJob,
    RegistryRecord,
    RegistryRequest,
    Student,
)


def can_register_destination(student: Student) -> Decision:
    """Signing and destination registration wait for the first-login check."""
    if not student.is_confirmed:
        return deny(_("Confirm your registry information first."))
    return ALLOW


def _school_office(user: User, school_id: int, refusal: str) -> Decision:
    """The school employment office's business: its school reviewers and platform admins may;
    the school's college reviewers see it but are told ``refusal``; anyone else gets 404."""
    if user.is_platform_admin:
        return ALLOW
    if user.is_reviewer and user.school_id == school_id:
        if user.is_school_reviewer:
            return ALLOW
        return deny(refusal)
    return deny(_("Not found."), visible=False)


def can_view_registry_request(user: User, request: RegistryRequest) -> Decision:
    if user.is_student:
        if getattr(user, "student", None) and request.student_id == user.student.pk:
            return ALLOW
        return deny(_("Not your request."), visible=False)
    return _school_office(
        user,
        request.school_id,
        _("Registry requests are reviewed by the school employment office."),
    )


def can_review_registry_request(user: User, request: RegistryRequest) -> Decision:
    seen = can_view_registry_request(user, request)  # a refusal is falsy: it is the answer
    return seen and can_decide(user, request, RegistryRequest.REVIEW)


def get_registry_request_for(user: User, pk: int) -> RegistryRequest:
    """Load a request for ``user``: 404 for strangers, 403 for insiders without the right."""
    return load_for(
        user,
        RegistryRequest.objects.select_related("student", "school"),
        pk,
        can_view_registry_request,
    )


def can_view_import_job(user: User, job: RegistryImportJob) -> Decision:
    """An import belongs to its school: its school reviewers (and platform admins) follow it."""
    return _school_office(
        user, job.school_id, _("Registry imports are run by the school employment office.")
    )


def get_import_job_for(user: User, pk: int) -> RegistryImportJob:
    """Load an import job for ``user``: 404 for strangers, 403 for insiders without the right."""
    return load_for(
        user, RegistryImportJob.objects.select_related("school"), pk, can_view_import_job
    )


def can_decide_held_change(user: User, change: HeldRegistryChange) -> Decision:
    """Apply or drop a held-back name / ID change: the record's school reviewers or admins."""
    school_id = change.record.school_id
    if not user.is_platform_admin and not (user.is_reviewer and user.school_id == school_id):
        return deny(_("Not found."), visible=False)
    if change.status != HeldRegistryChange.Status.PENDING:
        return deny(_("This change has already been decided."))
    if user.is_platform_admin or user.is_school_reviewer:
        return ALLOW
    return deny(_("Held registry changes are decided by the school employment office."))


def get_held_change_for(user: User, pk: int) -> HeldRegistryChange:
    """Load a held change for ``user``: 404 for strangers, 403 for insiders without the right."""
    change = (
        HeldRegistryChange.objects.select_related("record", "record__school").filter(pk=pk).first()
    )
    if change is None:
        raise Http404
    decision = can_decide_held_change(user, change)
    if not decision.visible:
        raise Http404
    return change


# --- registry records and the accounts bound to them -------------------------


def can_view_record(user: User, record: RegistryRecord) -> Decision:
    """Reviewers see the records they look after: their college's, or their school's."""
    if user.is_platform_admin:
        return ALLOW
    if user.is_school_reviewer and user.school_id == record.school_id:
        return ALLOW
    if user.is_college_reviewer and user.college_id == record.college_id:
        return ALLOW
    if user.is_student or user.is_employer:
        return deny(_("Only reviewers look up registry records."))
    return deny(_("Not found."), visible=False)


def can_issue_activation_code(
    user: User, record: RegistryRecord, *, holder: Student | None
) -> Decision:
    """Who may hand a graduate an activation code for ``record``.

    The record's college, for a record with no phone or e-mail: it sees the graduate in
    person. Where the school registered a contact, the code sent there is the proof, and a
    college reviewer's password alone must not replace it; the school employment office,
    whose staff sign in with a second factor, may still issue one when the sent code cannot
    reach the graduate (a changed phone, or someone using up the record's sends). Every
    binding tells the record's own phone and e-mail, so a misused code does not go unseen.
    A code stays usable only while its issuer may still issue it (students/binding.py).
    """
    seen = can_view_record(user, record)
    if not seen:
        return seen
    # An unconfirmed holder (its identity corrected) confirms again, with a code if need be.
    if holder is not None and holder.is_confirmed:
        return deny(_("This record is already linked to an account."))
    if RegistryConflict.objects.open().filter(record_id=record.pk).exists():
        return deny(
            _("Another school claimed this graduate; the platform administrator is checking it.")
        )
    if user.is_platform_admin or user.is_school_reviewer:
        return ALLOW
    if record.mobile or record.email:
        return deny(
            _(
                "This graduate can receive a code on the phone or e-mail the school "
                "registered; activation codes are only for records with no contact."
            )
        )
    if not (user.is_college_reviewer and user.college_id == record.college_id):
        return deny(_("Activation codes are issued by the graduate's college."))
    return ALLOW


def can_unbind_record(user: User, record: RegistryRecord, *, holder: Student | None) -> Decision:
    """The school (or the platform) unlinks a wrongly bound account."""
    seen = can_view_record(user, record)
    if not seen:
        return seen
    if holder is None:
        return deny(_("This record is not linked to any account."))
    if user.is_platform_admin or (user.is_school_reviewer and user.school_id == record.school_id):
        return ALLOW
    return deny(_("Only the school employment office unlinks an account."))


def get_record_for(user: User, pk: int) -> RegistryRecord:
    """Load a record for a reviewer: 404 for strangers, 403 for other roles."""
    return load_for(user, RegistryRecord.objects.for_display(), pk, can_view_record)


def can_view_report(user: User, report: CoercionReport) -> Decision:
    """A 这不是我本人的意愿 report: its school's reviewers, its college's reviewers and platform
    admins see it; anyone else (another school's staff, another college's) does not know of it."""
    # The same rule as CoercionReport.objects.visible_to, without a query per report.
    same_school = user.is_reviewer and user.school_id == report.school_id
    if (
        user.is_platform_admin
        or (same_school and user.is_school_reviewer)
        or (same_school and user.is_college_reviewer and user.college_id == report.college_id)
    ):
        return ALLOW
    return deny(_("Not found."), visible=False)


def can_handle_report(user: User, report: CoercionReport) -> Decision:
    """The reviewers who see a report handle it while it is open (platform admins only read)."""
    seen = can_view_report(user, report)
    if not seen:
        return seen
    if not user.is_reviewer:
        return deny(_("Reports are handled by the school's and colleges' reviewers."))
    if report.status != CoercionReport.Status.OPEN:
        return deny(_("This report was already handled."))
    if report.event.actor_id == user.pk:
        return deny(_("The report is about your own decision: another reviewer handles it."))
    return ALLOW


def get_report_for(user: User, pk: int) -> CoercionReport:
    """Load a report for ``user``: 404 for strangers."""
    return load_for(user, CoercionReport.objects.all(), pk, can_view_report)
