"""Student pages for paths 二 (offline e-agreement), 三 (paper) and 四 (other destinations),
and the unit's account-free return page."""

from django.conf import settings
from django.contrib import messages
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import FileResponse, Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_POST

from agreements.models import OTHER_KINDS, Agreement, Registration, ReturnLink, UnitSigningRequest
from agreements.online.presenters import agreement_status
from agreements.registrations import services as services
from agreements.registrations.forms import RegistrationForm, ScanForm, kind_table
from agreements.registrations.permissions import (
    can_edit_registration,
    can_print_e_agreement,
    can_upload_scan,
    get_registration_for,
)
from agreements.registrations.presenters import registration_context, registration_status
from destreg.accounts.decorators import role_required
from destreg.accounts.models import Role
from destreg.lib.actions import attempt
from destreg.lib.permissions import require
from destreg.lib.uploads import document_response
from employers.models import Employer
from students.destinations import path_openings

student_required = role_required(Role.STUDENT)
PATHS = {"offline", "paper", "other"}
PDF_RETRY_SECONDS = 60
UNIT_NAME_MAX_LENGTH = Registration._meta.get_field("unit_name").max_length or 100


def absolute_base(request) -> str:
    """Where links made for this request (e-mailed ones) start. In development, or with
    SITE_URL unset, the host the page was opened on, so that a link works from where the
    site was reached; in production SITE_URL (``check --deploy`` requires it)."""
    if settings.DEBUG or not settings.SITE_URL_SET:
        return request.build_absolute_uri("/").rstrip("/")
    return settings.SITE_URL


@student_required
def register(request):
    """签就业协议书就业 / 其他去向: the four ways, and where the student stands."""
    student = request.user.student
    return render(
        request,
        "agreements/register.html",
        {
            # 四选一 before any form: which paths are open now, and why the others are not.
            "openings": path_openings(student),
            "registrations": [
                (r, registration_status(r))
                for r in student.registrations.select_related("destination")[:20]
            ],
            "agreements": [
                (a, agreement_status(a))
                for a in Agreement.objects.filter(student=student).select_related("employer")[:20]
            ],
            "kinds": [(key, value[1]) for key, value in OTHER_KINDS.items()],
            # 扫码签约 waiting for its unit, if any (agreements/scansign).
            "unit_request": student.unit_signing_requests.filter(
                status=UnitSigningRequest.Status.PENDING
            ).first(),
        },
    )


def _save(request, form: RegistrationForm, path: str, registration: Registration | None):
    """暂存 keeps the draft; 提交 also sends it for review, or, refused, keeps nothing and
    shows the form again with what was typed. Returns a redirect or None."""
    save = services.registration_save_draft if form.draft else services.registration_save_and_submit
    done = attempt(
        lambda: save(
            student=request.user.student,
            path=path,
            values=form.values(),
            registration=registration,
        ),
        form=form,
    )
    if done.value is None:
        if not form.chosen_file_labels():  # otherwise the page says so, asking for them again
            form.add_error(None, _("Nothing was saved."))
        return None
    if form.draft:
        messages.success(request, _("Draft saved."))
    else:
        messages.success(request, _("Submitted; your college reviews it next."))
    return redirect("agreements:registration", pk=done.value.pk)


def _form_context(request, form: RegistrationForm, path: str, item=None) -> dict:
    """The registration form's page: shown again after a post, the files chosen in it are
    gone (a browser cannot be handed them back), and the page says so."""
    refusal = ""
    if item is None or item.status == Registration.Status.DRAFT:
        # A draft holds no path yet (a returned application holds its own, and may be
        # submitted again): say before it is filled in why submitting would be refused.
        refusal = path_openings(request.user.student)[path].reason
    return {
        "form": form,
        "path": path,
        "item": item,
        "path_refusal": refusal,
        "files_again": form.chosen_file_labels() if request.method == "POST" else [],
        "kind_table": kind_table() if path == "other" else None,
    }


@student_required
def registration_new(request, path: str):
    if path not in PATHS:
        raise Http404
    draft = request.POST.get("action") == "draft"
    initial = {"kind": request.GET.get("kind")} if path == "other" else {}
    form = RegistrationForm(
        request.POST or None, request.FILES or None, path=path, draft=draft, initial=initial
    )
    if request.method == "POST" and form.is_valid():
        response = _save(request, form, path, None)
        if response:
            return response
    return render(request, "agreements/registration_form.html", _form_context(request, form, path))


@student_required
def registration_edit(request, pk: int):
    item = get_registration_for(request.user, pk)
    decision = can_edit_registration(request.user, item)
    if not decision:
        raise PermissionDenied(decision.reason)
    draft = request.POST.get("action") == "draft"
    form = RegistrationForm(
        request.POST or None, request.FILES or None, instance=item, path=item.path, draft=draft
    )
    if request.method == "POST" and form.is_valid():
        response = _save(request, form, item.path, item)
        if response:
            return response
    return render(
        request,
        "agreements/registration_form.html",
        _form_context(request, form, item.path, item)
        | {"returned_comment": item.comment if item.sent_back else ""},
    )


@role_required(Role.STUDENT, Role.COLLEGE_REVIEWER, Role.SCHOOL_REVIEWER, Role.PLATFORM_ADMIN)
def registration_detail(request, pk: int):
    item = get_registration_for(request.user, pk)
    return render(request, "agreements/registration.html", registration_context(request.user, item))


@student_required
@require_POST
def registration_discard(request, pk: int):
    item = get_registration_for(request.user, pk)
    if not attempt(
        lambda: services.registration_discard(registration=item, user=request.user),
        request=request,
    ):
        return redirect("agreements:registration", pk=pk)
    messages.info(request, _("The draft was discarded."))
    return redirect("agreements:register")


@student_required
@require_POST
def registration_withdraw(request, pk: int):
    """撤回: give up a returned or unstamped application to take another path."""
    item = get_registration_for(request.user, pk)
    if attempt(
        lambda: services.registration_withdraw(registration=item, user=request.user),
        request=request,
    ):
        messages.info(request, _("The application was withdrawn."))
    return redirect("agreements:registration", pk=pk)


@student_required
@require_POST
def registration_scan(request, pk: int):
    """本人回传协议书."""
    item = get_registration_for(request.user, pk)
    form = ScanForm(request.POST, request.FILES)
    if form.is_valid() and attempt(
        lambda: services.registration_upload_scan(
            registration=item, scan=form.cleaned_data["scan"], user=request.user
        ),
        request=request,
    ):
        messages.success(request, _("Uploaded; your college reviews the stamped agreement."))
        return redirect("agreements:registration", pk=pk)
    context = registration_context(request.user, item) | {"scan_form": form}
    return render(request, "agreements/registration.html", context, status=400)


@student_required
@require_POST
def registration_return_link(request, pk: int):
    """用人单位协助回传协议书: e-mail the unit a one-time link."""
    item = get_registration_for(request.user, pk)
    sent = attempt(
        lambda: services.return_link_send(
            registration=item, user=request.user, site_url=absolute_base(request)
        ),
        request=request,
    )
    if sent.value is not None:
        messages.success(
            request, _("A link was e-mailed to %(email)s.") % {"email": sent.value.email}
        )
    return redirect("agreements:registration", pk=pk)


@xframe_options_sameorigin  # previewed inline on the review page
@role_required(Role.STUDENT, Role.COLLEGE_REVIEWER, Role.SCHOOL_REVIEWER, Role.PLATFORM_ADMIN)
def registration_file(request, pk: int, which: str):
    """Uploaded proof or stamped scan, shown inline to those who may see the registration."""
    item = get_registration_for(request.user, pk)
    field = {"proof": item.proof, "extra_proof": item.extra_proof, "scan": item.scan}.get(which)
    if not field:
        raise Http404
    return document_response(field)


def _pdf_response(item: Registration):
    if not item.pdf:
        return None
    return FileResponse(
        item.pdf.open("rb"),
        content_type="application/pdf",
        as_attachment=True,
        filename=f"就业协议书-{item.number or item.pk}.pdf",
    )


@role_required(Role.STUDENT, Role.COLLEGE_REVIEWER, Role.SCHOOL_REVIEWER, Role.PLATFORM_ADMIN)
def registration_pdf(request, pk: int):
    """The e-agreement to print and stamp (after the information review passes)."""
    item = get_registration_for(request.user, pk)
    require(can_print_e_agreement(request.user, item))
    response = _pdf_response(item)
    if response is None:
        # Not ready (or its render failed): ask again, at most once a minute however often
        # the page is refreshed.
        if cache.add(f"registration-pdf-queued:{item.pk}", True, PDF_RETRY_SECONDS):
            services.render_registration.enqueue(item.pk)
        return render(
            request,
            "agreements/pdf_pending.html",
            {"back_url": reverse("agreements:registration", args=[item.pk])},
            status=202,
        )
    return response


@student_required
def unit_search(request):
    """点击搜索: verified employers, and units already registered at the student's own
    school, by name. Units typed at other schools are never offered: they would show
    another school's graduates' destinations."""
    query = request.GET.get("q", "").strip()
    if not 2 <= len(query) <= UNIT_NAME_MAX_LENGTH:
        return JsonResponse({"results": []})
    record = request.user.student.record
    results = [
        {
            "name": e.name,
            "uscc": e.uscc,
            "nature": e.nature.code,
            "industry": e.industry.code,
            "region": e.region_id,
        }
        for e in Employer.objects.filter(
            name__icontains=query, verified_at__isnull=False
        ).select_related("nature", "industry")[:10]
    ]
    seen = {r["uscc"] for r in results}
    used = (
        Registration.objects.filter(
            Q(unit_name__icontains=query),
            ~Q(unit_uscc=""),
            status=Registration.Status.APPROVED,
            school_id=record.school_id,
        )
        .select_related("unit_nature", "unit_industry")
        .order_by("-signed_at")[:20]
        if record is not None
        else Registration.objects.none()
    )
    for r in used:
        if r.unit_uscc not in seen:
            seen.add(r.unit_uscc)
            results.append(
                {
                    "name": r.unit_name,
                    "uscc": r.unit_uscc,
                    "nature": getattr(r.unit_nature, "code", ""),
                    "industry": getattr(r.unit_industry, "code", ""),
                    "region": r.unit_region_id or "",
                }
            )
    return JsonResponse({"results": results[:15]})


def return_page(request, token: str):
    """The unit's page behind the e-mailed link: no account needed."""
    link = (
        ReturnLink.objects.select_related("registration__student", "registration__school")
        .filter(token=token)
        .first()
    )
    if (
        link is None
        or not link.usable
        or not can_upload_scan(None, link.registration, by_link=True)
    ):
        return render(request, "agreements/return.html", {"expired": True}, status=404)
    item = link.registration
    if request.GET.get("download") and item.pdf:
        return _pdf_response(item)
    form = ScanForm(request.POST or None, request.FILES or None)
    if (
        request.method == "POST"
        and form.is_valid()
        and attempt(
            lambda: services.registration_upload_scan(
                registration=item, scan=form.cleaned_data["scan"], link=link
            ),
            form=form,
            catch=ValidationError,
        )
    ):
        return render(request, "agreements/return.html", {"done": True, "item": item})
    return render(request, "agreements/return.html", {"item": item, "form": form, "link": link})
