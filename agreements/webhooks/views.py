"""The unit's webhook pages: endpoints, each endpoint's delivery log, and the admins' actions.
A new secret is put in the session by the action and shown once by the page it leads to."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from agreements.webhooks import services
from agreements.webhooks.forms import WebhookEndpointForm
from agreements.webhooks.models import WebhookEndpoint
from agreements.webhooks.permissions import (
    can_manage_endpoint,
    can_manage_webhooks,
    get_delivery_for,
    get_endpoint_for,
)
from agreements.webhooks.signing import (
    DELIVERY_HEADER,
    EVENT_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
)
from destreg.accounts.decorators import role_required
from destreg.accounts.models import Role
from destreg.lib.actions import attempt
from destreg.lib.permissions import require

employer_required = role_required(Role.EMPLOYER)
ONCE_KEY = "webhook_secret_once"  # session key of a new secret, until shown
LOG_LENGTH = 50


@employer_required
def webhooks(request):
    items = WebhookEndpoint.objects.filter(employer_id=request.user.employer_id)
    return render(
        request,
        "agreements/webhooks/list.html",
        {"items": items, "may_manage": can_manage_webhooks(request.user)},
    )


@employer_required
def webhook_new(request):
    require(can_manage_webhooks(request.user))
    form = WebhookEndpointForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        made = attempt(
            lambda: services.webhook_endpoint_create(user=request.user, **form.cleaned_data),
            form=form,
        )
        if made.value is not None:
            endpoint, secret = made.value
            request.session[ONCE_KEY] = [endpoint.pk, secret]
            messages.success(request, _("The endpoint is added."))
            return redirect("agreements:webhook", pk=endpoint.pk)
    status = 400 if form.is_bound else 200
    return render(
        request, "agreements/webhooks/form.html", {"form": form, "endpoint": None}, status=status
    )


@employer_required
def webhook(request, pk: int):
    """The endpoint, its secret right after it was made, and its delivery log."""
    endpoint = get_endpoint_for(request.user, pk)
    once = request.session.pop(ONCE_KEY, None)
    secret = once[1] if once and once[0] == endpoint.pk else None
    deliveries = endpoint.deliveries.order_by("-created_at", "-id")[:LOG_LENGTH]
    context = {
        "endpoint": endpoint,
        "secret": secret,
        "deliveries": deliveries,
        "may_manage": can_manage_endpoint(request.user, endpoint),
        "headers": {
            "timestamp": TIMESTAMP_HEADER,
            "signature": SIGNATURE_HEADER,
            "event": EVENT_HEADER,
            "delivery": DELIVERY_HEADER,
        },
    }
    response = render(request, "agreements/webhooks/detail.html", context)
    if secret:
        response["Cache-Control"] = "no-store"
    return response


@employer_required
def webhook_edit(request, pk: int):
    endpoint = get_endpoint_for(request.user, pk)
    require(can_manage_endpoint(request.user, endpoint))
    form = WebhookEndpointForm.for_endpoint(endpoint, request.POST or None)
    if (
        request.method == "POST"
        and form.is_valid()
        and attempt(
            lambda: services.webhook_endpoint_update(
                user=request.user, endpoint=endpoint, **form.cleaned_data
            ),
            form=form,
        )
    ):
        messages.success(request, _("The endpoint is saved."))
        return redirect("agreements:webhook", pk=endpoint.pk)
    status = 400 if form.is_bound else 200
    return render(
        request,
        "agreements/webhooks/form.html",
        {"form": form, "endpoint": endpoint},
        status=status,
    )


@employer_required
@require_POST
def webhook_delete(request, pk: int):
    endpoint = get_endpoint_for(request.user, pk)
    if attempt(
        lambda: services.webhook_endpoint_delete(user=request.user, endpoint=endpoint),
        request=request,
    ):
        messages.success(request, _("The endpoint is deleted."))
        return redirect("agreements:webhooks")
    return redirect("agreements:webhook", pk=endpoint.pk)


@employer_required
@require_POST
def webhook_rotate(request, pk: int):
    endpoint = get_endpoint_for(request.user, pk)
    rotated = attempt(
        lambda: services.webhook_endpoint_rotate_secret(user=request.user, endpoint=endpoint),
        request=request,
    )
    if rotated.value is not None:
        request.session[ONCE_KEY] = [endpoint.pk, rotated.value]
        messages.success(request, _("A new secret is made; the old one no longer signs."))
    return redirect("agreements:webhook", pk=endpoint.pk)


@employer_required
@require_POST
def webhook_test(request, pk: int):
    endpoint = get_endpoint_for(request.user, pk)
    if attempt(
        lambda: services.webhook_endpoint_send_test(user=request.user, endpoint=endpoint),
        request=request,
    ):
        messages.success(request, _("A test event is on its way; its delivery is in the log."))
    return redirect("agreements:webhook", pk=endpoint.pk)


@employer_required
@require_POST
def webhook_resend(request, pk: int):
    delivery = get_delivery_for(request.user, pk)
    if attempt(
        lambda: services.webhook_delivery_resend(user=request.user, delivery=delivery),
        request=request,
    ):
        messages.success(request, _("The event is sent again as a new delivery."))
    return redirect("agreements:webhook", pk=delivery.endpoint_id)
