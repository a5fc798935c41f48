"""下载协议书 and the public verification page behind the QR code."""

from datetime import timedelta

from django.core.exceptions import PermissionDenied
from django.http import FileResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from agreements.forms import VerifyUploadForm
from agreements.models import Agreement, Registration
from agreements.online import services
from agreements.online.permissions import (
    get_agreement_for,
)
from agreements.verification import (
    UPLOAD_CHECK_WINDOW_SECONDS,
    compare_upload,
    upload_check_allowed,
)
from destreg.accounts.decorators import role_required
from destreg.accounts.models import Role
from destreg.lib.clients import client_ip

student_required = role_required(Role.STUDENT)
employer_required = role_required(Role.EMPLOYER)
party_required = role_required(Role.STUDENT, Role.EMPLOYER)


# --- the PDF and its public verification -------------------------------------

PDF_RETRY_AFTER = timedelta(minutes=1)


def queue_pdf_again_if_stale(item: Agreement) -> None:
    """The PDF is not ready: ask again if the last request for it is old (e.g. a worker
    died). Shared by 下载协议书 and the API."""
    if item.pdf_queued_at is None or item.pdf_queued_at < timezone.now() - PDF_RETRY_AFTER:
        services.queue_agreement_pdf(item)


@role_required(
    Role.STUDENT, Role.EMPLOYER, Role.COLLEGE_REVIEWER, Role.SCHOOL_REVIEWER, Role.PLATFORM_ADMIN
)
def download(request, pk: int):
    """下载协议书: the stored, signed PDF; a polite wait page while it is being made."""
    item = get_agreement_for(request.user, pk)
    if not item.number:
        raise PermissionDenied(_("The agreement can be downloaded once it is signed."))
    if item.pdf:
        response = FileResponse(
            item.pdf.open("rb"),
            content_type="application/pdf",
            as_attachment=True,
            filename=f"就业协议书-{item.number}.pdf",
        )
        response["X-Content-Type-Options"] = "nosniff"
        return response
    queue_pdf_again_if_stale(item)
    return render(
        request,
        "agreements/pdf_pending.html",
        {"back_url": reverse("agreements:agreement", args=[item.pk])},
        status=202,
    )


VALID = ("valid", gettext_lazy("Valid"))
VOID = ("void", gettext_lazy("Void"))
VERIFY_STATUS = {
    Agreement.Status.SIGNED: VALID,
    Agreement.Status.TERMINATED: ("terminated", gettext_lazy("Terminated")),
    Registration.Status.APPROVED: VALID,
    Registration.Status.INFO_APPROVED: (
        "pending",
        gettext_lazy("Not yet in force: awaiting the unit's stamp and the school's review"),
    ),
    Registration.Status.SCAN_COLLEGE_REVIEW: (
        "pending",
        gettext_lazy("Not yet in force: awaiting the unit's stamp and the school's review"),
    ),
    Registration.Status.SCAN_SCHOOL_REVIEW: (
        "pending",
        gettext_lazy("Not yet in force: awaiting the unit's stamp and the school's review"),
    ),
    Registration.Status.SCAN_RETURNED: (
        "pending",
        gettext_lazy("Not yet in force: awaiting the unit's stamp and the school's review"),
    ),
}


def _document_by_token(token: str) -> Agreement | Registration | None:
    """The signed online agreement or the printed offline e-agreement behind a QR code."""
    agreement = (
        Agreement.objects.select_related("employer", "school", "student")
        .filter(verify_token=token, number__isnull=False)
        .first()
    )
    if agreement is not None:
        return agreement
    return (
        Registration.objects.select_related("school", "student")
        .filter(verify_token=token, path=Registration.Path.OFFLINE)
        .exclude(pdf="")
        .first()
    )


def verification_facts(item: Agreement | Registration) -> dict:
    """What the public verification page (and the API's verification call) tells anyone
    holding the QR code: the state in force, the unit, the graduate's masked name."""
    state, label = VERIFY_STATUS.get(item.status, VOID)
    name = item.student.real_name
    return {
        "unit_name": (item.unit_name or item.employer.name)
        if isinstance(item, Agreement)
        else item.unit_name,
        "state": state,
        "state_label": label,
        "masked_name": name[:1] + "*" * (len(name) - 1),
    }


def verify(request, token: str):
    """Public page behind the QR code: is this agreement genuine and in force?"""
    item = _document_by_token(token)
    if item is None:
        return render(request, "agreements/verify.html", {"unknown": True}, status=404)
    form = VerifyUploadForm(request.POST or None, request.FILES or None)
    result, limited, status = None, False, 200
    if request.method == "POST" and not upload_check_allowed(client_ip(request)):
        form, limited, status = VerifyUploadForm(), True, 429  # the file is not checked
    elif request.method == "POST" and form.is_valid():
        result = compare_upload(item, form.cleaned_data["file"].read())
    response = render(
        request,
        "agreements/verify.html",
        {
            "agreement": item,
            **verification_facts(item),
            "form": form,
            "result": result,
            "limited": limited,
        },
        status=status,
    )
    if limited:
        response["Retry-After"] = str(UPLOAD_CHECK_WINDOW_SECONDS)
    return response
