"""申请解约 (paths 二, 三) and 作废申请 (path 四): the student's actions on the registration's
page, the unit's portal list, and the pages behind the unit's one-time links."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_POST

from agreements.models import Registration, TerminationLink
from agreements.online import services as online_services
from agreements.online.forms import TerminationAnswerForm
from agreements.registrations import changes as services
from agreements.registrations.change_forms import (
    RegistrationTerminationForm,
    TerminationLinkRequestForm,
    VoidRequestForm,
)
from agreements.registrations.change_presenters import change_context, unit_rows
from agreements.registrations.changes import has_unit_account
from agreements.registrations.permissions import (
    can_answer_registration_termination,
    can_request_registration_termination,
    can_view_registration,
    get_change_for,
    is_unit_of,
)
from agreements.registrations.presenters import registration_context
from destreg.accounts.decorators import role_required
from destreg.accounts.models import Role
from destreg.lib.actions import attempt
from destreg.lib.permissions import ALLOW, load_for
from destreg.lib.uploads import document_response

student_required = role_required(Role.STUDENT)
employer_required = role_required(Role.EMPLOYER)
party_required = role_required(Role.STUDENT, Role.EMPLOYER)


def _get_for_party(user, pk: int) -> Registration:
    """The registration for its student or its unit (404 for anybody else)."""
    return load_for(
        user,
        Registration.objects.select_related("student", "school", "college", "destination"),
        pk,
        lambda user, item: ALLOW if is_unit_of(user, item) else can_view_registration(user, item),
    )


def _back(user, item: Registration):
    if user.is_employer:
        return redirect("agreements:unit_registrations")
    return redirect("agreements:registration", pk=item.pk)


def _page_with(request, item: Registration, form, status: int = 400):
    """The page the form came from, with its errors."""
    if request.user.is_employer:
        return render(
            request,
            "agreements/unit_registrations.html",
            {"rows": unit_rows(request.user, form_for=item.pk, form=form)},
            status=status,
        )
    context = registration_context(request.user, item) | change_context(request.user, item, form)
    return render(request, "agreements/registration.html", context, status=status)


@party_required
@require_POST
def registration_terminate(request, pk: int):
    """申请解约 by the student (on the page) or the unit (on its portal)."""
    item = _get_for_party(request.user, pk)
    ask = request.user.is_student and not has_unit_account(item)
    form = RegistrationTerminationForm(request.POST, request.FILES, ask_unit_email=ask)
    if form.is_valid() and attempt(
        lambda: services.registration_termination_request(
            registration=item,
            user=request.user,
            reason=form.cleaned_data["reason"],
            document=form.cleaned_data["document"],
            unit_email=form.cleaned_data.get("unit_email") or "",
        ),
        request=request,
        form=form,
        catch=ValidationError,
    ):
        messages.success(request, _("Termination requested; the other party answers next."))
        return _back(request.user, item)
    return _page_with(request, item, form)


@student_required
@require_POST
def registration_void(request, pk: int):
    """作废申请 of an approved other destination."""
    item = _get_for_party(request.user, pk)
    form = VoidRequestForm(request.POST)
    if form.is_valid() and attempt(
        lambda: services.void_request(
            registration=item, user=request.user, reason=form.cleaned_data["reason"]
        ),
        request=request,
        form=form,
        catch=ValidationError,
    ):
        messages.success(request, _("Void requested; it is reviewed next."))
        return redirect("agreements:registration", pk=pk)
    return _page_with(request, item, form)


@party_required
@require_POST
def registration_change_answer(request, pk: int):
    """The other party agrees or refuses: the student on the page, the unit on its portal."""
    termination = get_change_for(request.user, pk)
    item = termination.registration
    if item is None:
        raise Http404
    form = TerminationAnswerForm(request.POST)
    if form.is_valid() and attempt(
        lambda: services.registration_termination_answer(
            termination=termination,
            user=request.user,
            agree=form.cleaned_data["agree"],
            comment=form.cleaned_data["comment"],
        ),
        request=request,
    ):
        messages.success(request, _("Your answer is recorded."))
    return _back(request.user, item)


@party_required
@require_POST
def change_withdraw(request, pk: int):
    """撤回申请: the party who asked takes back a termination or void request, of an online
    agreement or of a registration, before the school decides it."""
    termination = get_change_for(request.user, pk)
    if termination.registration is None:
        withdraw, back = (
            online_services.termination_withdraw,
            redirect("agreements:agreement", pk=termination.agreement_id),
        )
    else:
        withdraw, back = (
            services.registration_change_withdraw,
            _back(request.user, termination.registration),
        )
    if attempt(lambda: withdraw(termination=termination, user=request.user), request=request):
        messages.success(request, _("The request is withdrawn."))
    return back


@xframe_options_sameorigin  # previewed inline on the review page
@role_required(
    Role.STUDENT, Role.EMPLOYER, Role.COLLEGE_REVIEWER, Role.SCHOOL_REVIEWER, Role.PLATFORM_ADMIN
)
def change_document(request, pk: int):
    """A request's 解约函 / supporting file, to those who may see the request."""
    termination = get_change_for(request.user, pk)
    if not termination.document:
        raise Http404
    return document_response(termination.document)


@employer_required
def unit_registrations(request):
    """The unit's portal: offline and paper agreements registered with it, to apply for
    termination or answer the graduate's request."""
    return render(
        request,
        "agreements/unit_registrations.html",
        {"rows": unit_rows(request.user)},
    )


def _live_link(token: str) -> TerminationLink | None:
    link = (
        TerminationLink.objects.select_related(
            "registration__student", "registration__school", "termination"
        )
        .filter(token=token)
        .first()
    )
    return link if link is not None and link.usable else None


def termination_link(request, token: str):
    """The unit's page behind its one-time link (no account): answer the graduate's request,
    or (a link it asked for) apply for termination itself."""
    link = _live_link(token)
    if link is None:
        return render(request, "agreements/termination_link.html", {"expired": True}, status=404)
    item, termination = link.registration, link.termination
    still = (
        can_answer_registration_termination(None, termination, by_link=True)
        if termination is not None
        else can_request_registration_termination(None, item, by_link=True)
    )
    if not still:  # answered, withdrawn or ended since the link was sent
        return render(request, "agreements/termination_link.html", {"expired": True}, status=404)
    if termination is not None and request.GET.get("document") and termination.document:
        return document_response(termination.document)
    form: TerminationAnswerForm | RegistrationTerminationForm
    if termination is not None:
        form = TerminationAnswerForm(request.POST or None)
        act = lambda: services.registration_termination_answer(  # noqa: E731
            termination=termination,
            link=link,
            agree=form.cleaned_data["agree"],
            comment=form.cleaned_data["comment"],
        )
    else:
        form = RegistrationTerminationForm(request.POST or None, request.FILES or None)
        act = lambda: services.registration_termination_request(  # noqa: E731
            registration=item,
            link=link,
            reason=form.cleaned_data["reason"],
            document=form.cleaned_data["document"],
        )
    if request.method == "POST" and form.is_valid():
        done = attempt(act, form=form, catch=(ValidationError, PermissionDenied))
        if done:
            return render(request, "agreements/termination_link.html", {"done": True})
    context = {"item": item, "termination": termination, "form": form, "link": link}
    status = 400 if request.method == "POST" else 200
    return render(request, "agreements/termination_link.html", context, status=status)


def termination_link_request(request):
    """A unit without an account asks for a one-time link to apply for termination. The
    answer is the same whatever the number and address: it tells nobody who signed what."""
    form = TerminationLinkRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        item = (
            Registration.objects.filter(
                number=form.cleaned_data["number"].strip(),
                path__in=[Registration.Path.OFFLINE, Registration.Path.PAPER],
            )
            .only("pk", "student_id")
            .first()
        )
        if item is not None:
            services.termination_link_send(registration=item, email=form.cleaned_data["email"])
        return render(request, "agreements/termination_link.html", {"link_sent": True})
    return render(request, "agreements/termination_link.html", {"ask_form": form})
