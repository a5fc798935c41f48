"""Student and employer pages of online signing (reviewers' pages live in ``reviews``)."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from agreements.models import Agreement, Invitation, TermTemplate
from agreements.online import services
from agreements.online.forms import (
    InvitationForm,
    TerminationAnswerForm,
    TerminationRequestForm,
    TermTemplateForm,
)
from agreements.online.permissions import (
    can_accept_invitation,
    can_answer_invitation,
    can_invite,
    get_agreement_for,
    get_invitation_for,
    get_term_template_for,
    get_termination_for,
)
from agreements.online.presenters import agreement_context
from agreements.registrations.permissions import get_registration_for
from agreements.registrations.presenters import signing_context
from destreg.accounts.decorators import role_required
from destreg.accounts.models import Role
from destreg.audit.models import AuditEvent
from destreg.lib.actions import attempt
from destreg.lib.params import parse_id
from destreg.lib.uploads import document_response
from students.destinations import SIGNING_PATHS
from students.home import time_left
from students.models import DestinationClaim, DestinationPath

student_required = role_required(Role.STUDENT)
employer_required = role_required(Role.EMPLOYER)
party_required = role_required(Role.STUDENT, Role.EMPLOYER)


@student_required
def invitations(request):
    items = (
        request.user.student.invitations.select_related("employer")
        # "student": the related manager sets it on every row; deferred, it is read per row.
        .only("student", "employer__name", "position", "deadline", "status", "created_at")
        .order_by("-created_at")
    )
    active = Agreement.objects.active().filter(student=request.user.student).first()
    return render(request, "agreements/invitations.html", {"items": items, "active": active})


@party_required
def invitation(request, pk: int):
    item = get_invitation_for(request.user, pk)
    return render(
        request,
        "agreements/invitation.html",
        {
            "item": item,
            "can_answer": can_answer_invitation(request.user, item),
            "can_accept": can_accept_invitation(request.user, item),
            "left": time_left(item.deadline),
            "agreement": item.agreement_or_none,
            "events": AuditEvent.objects.timeline(item),
        },
    )


ANSWERS = ("accept", "decline")


@student_required
@require_http_methods(["GET", "POST"])
def invitation_answer(request, pk: int):
    """接受 / 拒绝, confirmed first: one signing is final. GET ``?answer=`` shows what the
    answer does; a POST with ``confirm=1`` gives it. A POST without it (a page from before
    the confirmation existed) is sent to the confirmation and changes nothing."""
    item = get_invitation_for(request.user, pk)
    data = request.POST if request.method == "POST" else request.GET
    answer = data.get("answer")
    if answer not in ANSWERS:
        return HttpResponseBadRequest(_("Choose accept or decline."))
    if request.method == "GET":
        return _confirm_answer(request, item, answer)
    if data.get("confirm") != "1":
        url = reverse("agreements:invitation_answer", args=[pk])
        return redirect(f"{url}?{urlencode({'answer': answer})}")
    if answer == "accept":
        accepted = attempt(
            lambda: services.invitation_accept(invitation=item, user=request.user), request=request
        )
        if accepted.value is not None:
            messages.success(request, _("Accepted. The agreement now awaits the college's review."))
            return redirect("agreements:agreement", pk=accepted.value.pk)
    elif attempt(
        lambda: services.invitation_decline(invitation=item, user=request.user), request=request
    ):
        messages.info(request, _("You declined the invitation."))
    return redirect("agreements:invitation", pk=pk)


def _confirm_answer(request, item: Invitation, answer: str):
    may = can_accept_invitation if answer == "accept" else can_answer_invitation
    decision = may(request.user, item)
    if not decision:
        messages.error(request, decision.reason)
        return redirect("agreements:invitation", pk=item.pk)
    return render(
        request,
        "agreements/invitation_confirm.html",
        {"item": item, "answer": answer, "accepting": answer == "accept"},
    )


@student_required
def mine(request):
    """我的签约: the student's signing in progress or in force, whichever path it took (the
    四选一 claim says which), else the latest online agreement."""
    student = request.user.student
    claim = (
        DestinationClaim.objects.filter(student=student, path__in=SIGNING_PATHS)
        .order_by("-approved")
        .first()
    )
    if claim is not None and claim.path != DestinationPath.ONLINE:
        registration = get_registration_for(request.user, claim.object_id)
        return render(
            request, "agreements/signing.html", signing_context(request.user, registration)
        )
    agreement = (
        Agreement.objects.filter(student=student, pk=claim.object_id).first()
        if claim is not None
        else Agreement.objects.filter(student=student).first()
    )
    if agreement is None:
        return render(request, "agreements/none.html")
    return redirect("agreements:agreement", pk=agreement.pk)


@role_required(
    Role.STUDENT, Role.EMPLOYER, Role.COLLEGE_REVIEWER, Role.SCHOOL_REVIEWER, Role.PLATFORM_ADMIN
)
def agreement(request, pk: int):
    item = get_agreement_for(request.user, pk)
    return render(request, "agreements/agreement.html", agreement_context(request.user, item))


@party_required
@require_POST
def terminate(request, pk: int):
    item = get_agreement_for(request.user, pk)
    form = TerminationRequestForm(request.POST, request.FILES)
    if form.is_valid() and attempt(
        lambda: services.termination_request(
            agreement=item,
            user=request.user,
            reason=form.cleaned_data["reason"],
            document=form.cleaned_data["document"],
        ),
        request=request,
    ):
        messages.success(request, _("Termination requested; the other party answers next."))
        return redirect("agreements:agreement", pk=pk)
    context = agreement_context(request.user, item) | {"termination_form": form}
    return render(request, "agreements/agreement.html", context, status=400)


@party_required
@require_POST
def termination_answer(request, pk: int):
    termination = get_termination_for(request.user, pk)
    form = TerminationAnswerForm(request.POST)
    if form.is_valid():
        attempt(
            lambda: services.termination_answer(
                termination=termination,
                user=request.user,
                agree=form.cleaned_data["agree"],
                comment=form.cleaned_data["comment"],
            ),
            request=request,
        )
    return redirect("agreements:agreement", pk=termination.agreement_id)


# --- employer pages ----------------------------------------------------------


SENT_PER_PAGE = 20
SENT_COLUMNS = (
    "student__real_name", "position", "created_at", "status", "deadline", "agreement__status"
)  # fmt: skip


@employer_required
def sent(request):
    invitations = (
        Invitation.objects.filter(employer_id=request.user.employer_id)
        .select_related("student", "agreement")
        # What the list shows: a full agreement row is large, and compiling it dear.
        .only(*SENT_COLUMNS)
        .order_by("-created_at", "-pk")
    )
    page = Paginator(invitations, SENT_PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "agreements/sent.html",
        {"page": page, "items": page.object_list, "can_invite": can_invite(request.user)},
    )


@employer_required
@sensitive_post_parameters("id_number")
def invite(request):
    decision = can_invite(request.user)
    if not decision:
        raise PermissionDenied(decision.reason)
    templates = TermTemplate.objects.filter(employer_id=request.user.employer_id)
    initial = {}
    if request.method == "GET" and (chosen := parse_id(request.GET.get("template"))):
        initial = InvitationForm.initial_from(get_term_template_for(request.user, chosen))
    form = InvitationForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        sent = attempt(
            lambda: services.invitation_send(
                sender=request.user,
                name=form.cleaned_data["name"],
                id_number=form.cleaned_data["id_number"],
                terms=form.terms(),
                deadline=form.cleaned_data["answer_by"],
            ),
            form=form,
            catch=ValidationError,
        )
        if sent.value is not None:
            messages.success(request, _("Invitation sent."))
            return redirect("agreements:invitation", pk=sent.value.pk)
    return render(
        request,
        "agreements/invite.html",
        {"form": form, "templates": templates, "chosen": request.GET.get("template", "")},
    )


# --- terms templates ---------------------------------------------------------


@employer_required
def term_templates(request):
    """The unit's saved terms, each a starting point for an invitation."""
    items = TermTemplate.objects.filter(employer_id=request.user.employer_id).select_related(
        "job_category", "updated_by"
    )
    return render(request, "agreements/term_templates.html", {"items": items})


@employer_required
def term_template_edit(request, pk: int | None = None):
    """New template (no ``pk``) or changes to one of the unit's."""
    template = get_term_template_for(request.user, pk) if pk is not None else None
    form = TermTemplateForm(request.POST or None, instance=template)
    if (
        request.method == "POST"
        and form.is_valid()
        and attempt(
            lambda: services.term_template_save(
                user=request.user, values=form.values(), template=template
            ),
            form=form,
            catch=ValidationError,
        )
    ):
        messages.success(request, _("The template is saved."))
        return redirect("agreements:term_templates")
    status = 400 if form.is_bound else 200
    return render(
        request,
        "agreements/term_template_form.html",
        {"form": form, "template": template},
        status=status,
    )


@employer_required
@require_POST
def term_template_delete(request, pk: int):
    template = get_term_template_for(request.user, pk)
    services.term_template_delete(user=request.user, template=template)
    messages.success(request, _("The template is deleted."))
    return redirect("agreements:term_templates")


@xframe_options_sameorigin  # previewed inline on the review page
@role_required(
    Role.STUDENT, Role.EMPLOYER, Role.COLLEGE_REVIEWER, Role.SCHOOL_REVIEWER, Role.PLATFORM_ADMIN
)
def termination_document(request, pk: int):
    """Serve a termination's supporting file to those who may see the agreement."""
    termination = get_termination_for(request.user, pk)
    if not termination.document:
        raise Http404
    return document_response(termination.document)
