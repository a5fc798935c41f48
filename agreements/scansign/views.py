"""扫码签约 pages: the graduate's (start, see the link's QR code, 取消, send again) and the
unit's page behind its one-time link (no account)."""

import io

import qrcode
import qrcode.image.svg
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from agreements.registrations.views import absolute_base
from agreements.scansign import services
from agreements.scansign.forms import UnitDetailsForm, UnitSigningStartForm, UnitTermsForm
from agreements.scansign.permissions import (
    can_change_unit_request,
    can_resend_unit_link,
    can_start_unit_signing,
    get_unit_request_for,
)
from destreg.accounts.decorators import role_required
from destreg.accounts.models import Role
from destreg.audit.models import AuditEvent
from destreg.lib.actions import attempt

student_required = role_required(Role.STUDENT)

# The raw token lives only in the graduate's own (server-side) session, so the page can show
# its QR code again; the database keeps the digest alone.
SESSION_KEY = "unit_sign_tokens"


def _remember(request, pk: int, token: str) -> None:
    tokens = dict(request.session.get(SESSION_KEY, {}))
    tokens[str(pk)] = token
    request.session[SESSION_KEY] = tokens


def _remembered(request, pk: int) -> str | None:
    return request.session.get(SESSION_KEY, {}).get(str(pk))


def _link(request, token: str) -> str:
    return absolute_base(request) + reverse("agreements:unit_sign", args=[token])


@student_required
@require_http_methods(["GET", "POST"])
def unit_request_new(request):
    decision = can_start_unit_signing(request.user)
    form = UnitSigningStartForm(request.POST or None)
    if decision and request.method == "POST" and form.is_valid():
        done = attempt(
            lambda: services.unit_signing_start(
                user=request.user, site_url=absolute_base(request), **form.cleaned_data
            ),
            form=form,
        )
        if done.value is not None:
            item, token = done.value
            _remember(request, item.pk, token)
            messages.success(
                request, _("The link was e-mailed to the unit. You can also show it its QR code.")
            )
            return redirect("agreements:unit_request", pk=item.pk)
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "agreements/unit_request_new.html",
        {"form": form, "decision": decision},
        status=status,
    )


@student_required
def unit_request(request, pk: int):
    item = get_unit_request_for(request.user, pk)
    token = _remembered(request, pk)
    pending = bool(can_change_unit_request(request.user, item)) and not item.is_overdue
    return render(
        request,
        "agreements/unit_request.html",
        {
            "item": item,
            "link": _link(request, token) if token and pending else "",
            "may_cancel": can_change_unit_request(request.user, item),
            "may_resend": can_resend_unit_link(request.user, item),
            "events": AuditEvent.objects.timeline(item),
        },
    )


@student_required
@never_cache
def unit_request_qr(request, pk: int):
    """The link's QR code (SVG, drawn here), for the graduate to show the unit in person."""
    item = get_unit_request_for(request.user, pk)
    token = _remembered(request, pk)
    if token is None or not can_change_unit_request(request.user, item) or item.is_overdue:
        raise Http404
    out = io.BytesIO()
    qrcode.make(
        _link(request, token), image_factory=qrcode.image.svg.SvgPathImage, box_size=10
    ).save(out)
    return HttpResponse(out.getvalue(), content_type="image/svg+xml")


@student_required
@require_POST
def unit_request_cancel(request, pk: int):
    item = get_unit_request_for(request.user, pk)
    if attempt(lambda: services.unit_signing_cancel(item=item, user=request.user), request=request):
        messages.info(request, _("Cancelled. The unit's link no longer works."))
    return redirect("agreements:unit_request", pk=pk)


@student_required
@require_POST
def unit_request_resend(request, pk: int):
    item = get_unit_request_for(request.user, pk)
    sent = attempt(
        lambda: services.unit_signing_resend(
            item=item, user=request.user, site_url=absolute_base(request)
        ),
        request=request,
    )
    if sent.value is not None:
        _remember(request, pk, sent.value)
        messages.success(request, _("A new link was e-mailed; the old one no longer works."))
    return redirect("agreements:unit_request", pk=pk)


@never_cache
@require_http_methods(["GET", "POST"])
def unit_sign(request, token: str):
    """The unit's page behind its one-time link: confirm the credit code, give the unit's
    details and the terms, 接受; or 拒绝. Unknown, used or expired links: 404."""
    item = services.unit_request_by_token(token)
    if item is None:
        return render(request, "agreements/unit_sign.html", {"gone": True}, status=404)
    data = request.POST if request.method == "POST" else None
    if data is not None and data.get("answer") == "decline":
        if attempt(
            lambda: services.unit_signing_decline(token=token),
            request=request,
            catch=(ValidationError, PermissionDenied, Http404),
        ):
            return render(request, "agreements/unit_sign.html", {"declined": True})
        return redirect("agreements:unit_sign", token=token)
    unit_form = UnitDetailsForm(
        data,
        initial={
            "name": item.unit_name,
            "contact_name": item.contact_name,
            "contact_email": item.contact_email,
        },
    )
    terms_form = UnitTermsForm(data)
    if data is not None:
        unit_ok, terms_ok = unit_form.is_valid(), terms_form.is_valid()
        if unit_ok and terms_ok:
            done = attempt(
                lambda: services.unit_signing_confirm(
                    token=token,
                    uscc=unit_form.cleaned_data["confirm_uscc"],
                    unit=unit_form.unit(),
                    terms=terms_form.terms(),
                ),
                form=unit_form,
            )
            if done.value is not None:
                return render(request, "agreements/unit_sign.html", {"done": True, "item": item})
    record = item.student.record
    return render(
        request,
        "agreements/unit_sign.html",
        {"item": item, "record": record, "unit_form": unit_form, "terms_form": terms_form},
        status=400 if data is not None else 200,
    )
