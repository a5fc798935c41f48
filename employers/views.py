from datetime import timedelta

from django.contrib import messages
from django.contrib.auth import login
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from destreg.accounts.decorators import role_required
from destreg.accounts.models import Role, UnitRole
from destreg.lib.actions import attempt
from destreg.lib.permissions import enforce
from destreg.lib.uploads import document_response
from employers import api_tokens, services
from employers.forms import (
    ApiTokenForm,
    ColleagueInviteForm,
    ColleagueJoinForm,
    ColleagueRoleForm,
    EmployerDetailsForm,
    EmployerEvidenceForm,
    EmployerRegistrationForm,
)
from employers.models import ApiToken, ColleagueInvitation, Employer, EmployerVerification
from employers.permissions import (
    can_change_unit_details,
    can_manage_api_tokens,
    can_manage_colleagues,
    can_view_api_tokens,
    get_colleague_for,
    get_employer_evidence_for,
    get_verification_evidence_for,
)


def _home(request, evidence_form: EmployerEvidenceForm, status: int = 200):
    employer = request.user.employer
    verifications = list(employer.verifications.select_related("school"))
    context = {
        "employer": employer,
        "verifications": verifications,
        "scope": (scope := [v for v in verifications if v.ended_at is None]),
        "all_schools": any(v.school_id is None for v in scope),
        "evidence_form": evidence_form,
    }
    return render(request, "employers/home.html", context, status=status)


@role_required(Role.EMPLOYER)
def home(request):
    return _home(request, EmployerEvidenceForm())


@role_required(Role.EMPLOYER)
@require_POST
def upload_evidence(request):
    """The unit adds or replaces its 营业执照 / 授权委托书 (e.g. registered before they were
    asked for)."""
    form = EmployerEvidenceForm(request.POST, request.FILES)
    if not form.is_valid():
        return _home(request, form, status=400)
    if not attempt(
        lambda: services.employer_upload_evidence(
            employer=request.user.employer, user=request.user, **form.cleaned_data
        ),
        form=form,
        catch=PermissionDenied,
    ):
        return _home(request, form, status=403)
    messages.success(request, _("Documents uploaded."))
    return redirect("employers:home")


def _evidence_response(holder: Employer | EmployerVerification, which: str):
    """The file ``which`` names ("licence" or "authorisation") of a unit or a verification."""
    name = {"licence": "business_licence", "authorisation": "authorisation_letter"}.get(which)
    field = getattr(holder, name) if name else None
    if not field:
        raise Http404
    return document_response(field)


@role_required(Role.EMPLOYER, Role.SCHOOL_REVIEWER, Role.PLATFORM_ADMIN)
def document(request, pk: int, which: str):
    """A unit's business licence or authorisation letter: to the unit and its verifiers only."""
    return _evidence_response(get_employer_evidence_for(request.user, pk), which)


@role_required(Role.EMPLOYER, Role.SCHOOL_REVIEWER, Role.PLATFORM_ADMIN)
def verification_document(request, pk: int, which: str):
    """A document as a verification saw it (the unit may have replaced it since)."""
    return _evidence_response(get_verification_evidence_for(request.user, pk), which)


@sensitive_post_parameters("password1", "password2")
def register(request):
    """用人单位注册: the unit and its first account, unverified until staff check it."""
    if request.user.is_authenticated:
        return redirect("home")
    form = EmployerRegistrationForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        unit = {name: data[name] for name in EmployerRegistrationForm.Meta.fields}
        user = services.employer_register(
            username=data["username"], password=data["password1"], unit=unit
        )
        login(request, user, backend="destreg.accounts.backends.UserAndProfileBackend")
        messages.success(request, _("Registered. Your unit waits for verification by staff."))
        return redirect("employers:home")
    return render(request, "employers/register.html", {"form": form})


# --- colleagues -------------------------------------------------------------------------------


def _colleagues_page(request, invite_form: ColleagueInviteForm, status: int = 200):
    employer = request.user.employer
    context = {
        "employer": employer,
        "colleagues": employer.users.order_by("-is_active", "unit_role", "date_joined"),
        "pending": ColleagueInvitation.objects.filter(
            employer=employer, used_at=None, expires_at__gt=timezone.now()
        ).select_related("invited_by"),
        "may_manage": can_manage_colleagues(request.user),
        "invite_form": invite_form,
        "roles": UnitRole.choices,
    }
    return render(request, "employers/colleagues.html", context, status=status)


@role_required(Role.EMPLOYER)
def colleagues(request):
    """The unit's users; its administrators invite colleagues, set roles and remove them."""
    form = ColleagueInviteForm(request.POST or None)
    if request.method == "POST":
        if form.is_valid() and attempt(
            lambda: services.colleague_invite(by=request.user, **form.cleaned_data),
            form=form,
        ):
            messages.success(
                request,
                _("An invitation was e-mailed to %(email)s.")
                % {"email": form.cleaned_data["email"]},
            )
            return redirect("employers:colleagues")
        return _colleagues_page(request, form, status=400)
    return _colleagues_page(request, form)


@role_required(Role.EMPLOYER)
@require_POST
def colleague_role(request, pk: int):
    colleague = get_colleague_for(request.user, pk)
    form = ColleagueRoleForm(request.POST)
    if form.is_valid() and attempt(
        lambda: services.colleague_set_role(
            by=request.user, colleague=colleague, unit_role=form.cleaned_data["unit_role"]
        ),
        request=request,
    ):
        messages.success(request, _("The role is changed."))
    return redirect("employers:colleagues")


@role_required(Role.EMPLOYER)
@require_POST
def colleague_remove(request, pk: int):
    colleague = get_colleague_for(request.user, pk)
    if attempt(
        lambda: services.colleague_remove(by=request.user, colleague=colleague), request=request
    ):
        messages.success(request, _("The colleague is removed; their history stays."))
    return redirect("employers:colleagues")


@role_required(Role.EMPLOYER)
@require_POST
def colleague_invitation_revoke(request, pk: int):
    invitation = ColleagueInvitation.objects.filter(
        pk=pk, employer_id=request.user.employer_id
    ).first()
    if invitation is None:
        raise Http404
    if attempt(
        lambda: services.colleague_invitation_revoke(by=request.user, invitation=invitation),
        request=request,
    ):
        messages.success(request, _("The invitation is withdrawn; its link no longer works."))
    return redirect("employers:colleagues")


@sensitive_post_parameters("password1", "password2")
def join(request, token: str):
    """A colleague's one-time link: they create their account and join the unit."""
    invitation = services.colleague_invitation(token)
    if invitation is None or request.user.is_authenticated:
        status = 404 if invitation is None else 200
        return render(request, "employers/join.html", {"invitation": invitation}, status=status)
    form = ColleagueJoinForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        joined = attempt(
            lambda: services.colleague_join(
                token=token,
                username=form.cleaned_data["username"],
                password=form.cleaned_data["password1"],
                display_name=form.cleaned_data["display_name"],
            ),
            form=form,
        )
        if joined.value is not None:
            login(request, joined.value, backend="destreg.accounts.backends.UserAndProfileBackend")
            messages.success(
                request, _("Welcome: you now act for %(unit)s.") % {"unit": invitation.employer}
            )
            return redirect("employers:home")
    status = 400 if form.is_bound else 200
    return render(
        request, "employers/join.html", {"invitation": invitation, "form": form}, status=status
    )


@role_required(Role.EMPLOYER)
def details(request):
    """A unit administrator changes the unit's details; a new name or credit code sends the
    unit back to verification (the page says so before saving)."""
    enforce(can_change_unit_details(request.user))
    employer = request.user.employer
    form = EmployerDetailsForm(request.POST or None, instance=Employer.objects.get(pk=employer.pk))
    if request.method == "POST" and form.is_valid():
        values = {name: form.cleaned_data[name] for name in form.Meta.fields}
        if attempt(
            lambda: services.employer_update_details(by=request.user, values=values), form=form
        ):
            messages.success(request, _("The unit's details are saved."))
            return redirect("employers:home")
    status = 400 if form.is_bound else 200
    return render(
        request, "employers/details.html", {"form": form, "employer": employer}, status=status
    )


# --- API keys ---------------------------------------------------------------------------------


def _api_tokens_page(request, form: ApiTokenForm, *, new_key: str = "", status: int = 200):
    decision = can_view_api_tokens(request.user)
    if not decision:
        raise PermissionDenied(decision.reason)
    tokens = ApiToken.objects.filter(employer_id=request.user.employer_id).select_related(
        "created_by", "revoked_by"
    )
    context = {
        "tokens": tokens,
        "may_manage": can_manage_api_tokens(request.user),
        "form": form,
        "new_key": new_key,
    }
    response = render(request, "employers/api_tokens.html", context, status=status)
    if new_key:
        response["Cache-Control"] = "no-store"  # the key is shown once: keep it out of caches
    return response


@role_required(Role.EMPLOYER)
@sensitive_post_parameters()
def api_token_list(request):
    """The unit's API keys; its administrators create them (the key is shown once, on the
    answer to the POST) and revoke them."""
    initial = {"expires_on": timezone.localdate() + timedelta(days=90)}
    form = ApiTokenForm(request.POST or None, initial=initial)
    if request.method == "POST":
        if form.is_valid():
            made = attempt(
                lambda: api_tokens.api_token_create(by=request.user, **form.cleaned_data),
                form=form,
            )
            if made.value is not None:
                return _api_tokens_page(
                    request, ApiTokenForm(initial=initial), new_key=made.value[1]
                )
        return _api_tokens_page(request, form, status=400)
    return _api_tokens_page(request, form)


@role_required(Role.EMPLOYER)
@require_POST
def api_token_revoke(request, pk: int):
    token = ApiToken.objects.filter(pk=pk, employer_id=request.user.employer_id).first()
    if token is None:
        raise Http404
    if attempt(lambda: api_tokens.api_token_revoke(by=request.user, token=token), request=request):
        messages.success(request, _("The key is revoked; calls with it are refused from now on."))
    return redirect("employers:api_tokens")
