"""The API's endpoints. Each loads through the portal's loaders (``get_invitation_for``,
``get_agreement_for``: another unit's ids are 404) and writes through its services
(``invitation_send``); every call, refused ones included, leaves an ``ApiCall`` row, except
refusals beyond the client address's rate (``RefusedCallThrottle``)."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import FileResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import AuthenticationFailed, NotAuthenticated, Throttled
from rest_framework.generics import GenericAPIView
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from agreements.api.serializers import (
    AgreementSerializer,
    BatchResultSerializer,
    ErrorSerializer,
    InvitationInSerializer,
    InvitationSerializer,
    VerificationSerializer,
)
from agreements.api.throttling import RefusedCallThrottle
from agreements.models import Agreement, Invitation
from agreements.online import services
from agreements.online.forms import InvitationForm
from agreements.online.permissions import can_invite, get_agreement_for, get_invitation_for
from agreements.registrations.views import absolute_base
from agreements.views import queue_pdf_again_if_stale, verification_facts
from employers.models import ApiCall

BATCH_MAX_ROWS = 200
PDF_RETRY_AFTER_SECONDS = 60
ERRORS = {400: ErrorSerializer, 401: ErrorSerializer, 403: ErrorSerializer, 429: ErrorSerializer}


class ApiView(GenericAPIView):
    # Records every call, answered or refused, with the key it came with. (No docstring:
    # drf-spectacular would show it as every endpoint's description.)

    logged = True

    def handle_exception(self, exc):
        # A refused key is refused before PerKeyThrottle could count it: refusals are counted
        # per client address, and those beyond the rate are neither answered 401 nor logged
        # (else anyone could write ApiCall rows without end).
        if isinstance(exc, NotAuthenticated | AuthenticationFailed):
            throttle = RefusedCallThrottle()
            if not throttle.allow_request(self.request, self):
                self.logged = False
                exc = Throttled(throttle.wait())
        return super().handle_exception(exc)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if not self.logged:
            return response
        token = getattr(request._request, "api_token", None)
        ApiCall.objects.create(
            token=token,
            token_name=token.name if token is not None else "",
            prefix=getattr(request._request, "api_prefix", ""),
            method=request.method[:10],
            path=request.get_full_path()[:300],
            status=response.status_code,
        )
        return response

    def check_permissions(self, request):
        # Every call of a key counts against its rate, those its scope refuses included
        # (DRF would check the rate only after the permissions).
        super().check_throttles(request)
        super().check_permissions(request)

    def check_throttles(self, request):
        pass  # counted in check_permissions

    def unit_id(self) -> int:
        return self.request.user.employer_id


def _base(request) -> str:
    return absolute_base(request)


# --- invitations ---------------------------------------------------------------------


def _invitations(unit_id: int):
    """The unit's invitations, as its 已发邀请 page lists them."""
    return (
        Invitation.objects.filter(employer_id=unit_id)
        .select_related("student", "agreement", "job_category")
        .order_by("-created_at", "-pk")
    )


def _form_errors(form: InvitationForm) -> dict:
    return {field: [str(m) for m in messages] for field, messages in form.errors.items()}


def _send(user, row) -> tuple[Invitation | None, dict]:
    """One invitation through the portal's form and service: (invitation, {}) or
    (None, errors). A graduate who cannot be invited gets the service's one answer."""
    if not isinstance(row, dict):
        return None, {"non_field_errors": [_("Each row must be a JSON object.")]}
    nested = [key for key, value in row.items() if isinstance(value, list | dict)]
    if nested:
        return None, {key: [_("Give a single value.")] for key in nested}
    # As a browser's form would post them: every value a string (a number or a date alike).
    form = InvitationForm(data={k: ("" if v is None else str(v)) for k, v in row.items()})
    if not form.is_valid():
        return None, _form_errors(form)
    try:
        invitation = services.invitation_send(
            sender=user,
            name=form.cleaned_data["name"],
            id_number=form.cleaned_data["id_number"],
            terms=form.terms(),
            deadline=form.cleaned_data["answer_by"],
        )
    except ValidationError as error:
        return None, {"non_field_errors": list(error.messages)}
    return invitation, {}


class InvitationList(ApiView):
    """The unit's signing invitations (签约邀请), newest first; sending needs a write key."""

    serializer_class = InvitationSerializer

    def get_queryset(self):
        items = _invitations(self.unit_id())
        wanted = self.request.query_params.get("status")
        now = timezone.now()
        if wanted == Invitation.Status.PENDING:
            items = items.live()
        elif wanted == Invitation.Status.EXPIRED:
            items = items.filter(
                Q(status=Invitation.Status.EXPIRED)
                | Q(status=Invitation.Status.PENDING, deadline__lte=now)
            )
        elif wanted:
            items = items.filter(status=wanted)
        return items

    @extend_schema(
        summary="List the unit's invitations",
        parameters=[
            OpenApiParameter(
                "status", enum=Invitation.Status.values, description="only this state"
            ),
            OpenApiParameter("page", int),
        ],
        responses={200: InvitationSerializer(many=True), **ERRORS},
    )
    def get(self, request):
        wanted = request.query_params.get("status")
        if wanted and wanted not in Invitation.Status.values:
            return Response(
                {"errors": {"status": [_("Unknown status.")]}}, status=status.HTTP_400_BAD_REQUEST
            )
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(InvitationSerializer(page, many=True).data)

    @extend_schema(
        summary="Send one invitation",
        request=InvitationInSerializer,
        responses={201: InvitationSerializer, **ERRORS},
    )
    def post(self, request):
        require_invite(request.user)
        invitation, errors = _send(request.user, request.data)
        if invitation is None:
            return Response({"errors": errors}, status=status.HTTP_400_BAD_REQUEST)
        return Response(
            InvitationSerializer(_invitations(self.unit_id()).get(pk=invitation.pk)).data,
            status=status.HTTP_201_CREATED,
        )


def require_invite(user) -> None:
    decision = can_invite(user)
    if not decision:
        raise PermissionDenied(decision.reason)


class InvitationBatch(ApiView):
    """Up to 200 invitations in one call, each row answered on its own."""

    @extend_schema(
        summary="Send up to 200 invitations",
        description=(
            "A JSON array of invitations. Each row is sent on its own (its own transaction): "
            "a refused row does not stop or undo the others."
        ),
        request=InvitationInSerializer(many=True),
        responses={200: BatchResultSerializer, **ERRORS},
    )
    def post(self, request):
        rows = request.data
        if not isinstance(rows, list) or not rows:
            return Response(
                {"detail": _("Send a JSON array of invitations.")},
                status=status.HTTP_400_BAD_REQUEST,
            )
        if len(rows) > BATCH_MAX_ROWS:
            return Response(
                {"detail": _("At most %(n)d invitations per call.") % {"n": BATCH_MAX_ROWS}},
                status=status.HTTP_400_BAD_REQUEST,
            )
        require_invite(request.user)
        results, sent = [], []
        for number, row in enumerate(rows):
            invitation, errors = _send(request.user, row)
            if invitation is None:
                results.append({"row": number, "ok": False, "errors": errors})
            else:
                sent.append(invitation.pk)
                results.append({"row": number, "ok": True, "id": invitation.pk})
        made = {item.pk: item for item in _invitations(self.unit_id()).filter(pk__in=sent)}
        for result in results:
            if result["ok"]:
                result["invitation"] = InvitationSerializer(made[result.pop("id")]).data
        return Response({"sent": len(sent), "refused": len(rows) - len(sent), "results": results})


class InvitationDetail(ApiView):
    """One of the unit's invitations; another unit's is 404."""

    @extend_schema(
        summary="One invitation", responses={200: InvitationSerializer, 404: ErrorSerializer}
    )
    def get(self, request, pk: int):
        get_invitation_for(request.user, pk)  # the portal's loader: another unit's is 404
        return Response(InvitationSerializer(_invitations(self.unit_id()).get(pk=pk)).data)


# --- agreements ----------------------------------------------------------------------


def _agreements(unit_id: int):
    return (
        Agreement.objects.filter(employer_id=unit_id)
        .select_related("student", "job_category")
        .order_by("-created_at", "-pk")
    )


def _agreement_for(request, pk: int) -> Agreement:
    get_agreement_for(request.user, pk)  # the portal's loader: another unit's is 404
    return _agreements(request.user.employer_id).get(pk=pk)


class AgreementList(ApiView):
    """The unit's agreements (就业协议), newest first."""

    serializer_class = AgreementSerializer

    @extend_schema(
        summary="List the unit's agreements",
        parameters=[
            OpenApiParameter("status", enum=Agreement.Status.values, description="only this state"),
            OpenApiParameter("page", int),
        ],
        responses={200: AgreementSerializer(many=True), **ERRORS},
    )
    def get(self, request):
        items = _agreements(self.unit_id())
        wanted = request.query_params.get("status")
        if wanted and wanted not in Agreement.Status.values:
            return Response(
                {"errors": {"status": [_("Unknown status.")]}}, status=status.HTTP_400_BAD_REQUEST
            )
        if wanted:
            items = items.filter(status=wanted)
        page = self.paginate_queryset(items)
        data = AgreementSerializer(page, many=True, context={"base": _base(request)}).data
        return self.get_paginated_response(data)


class AgreementDetail(ApiView):
    """One of the unit's agreements; another unit's is 404."""

    @extend_schema(
        summary="One agreement", responses={200: AgreementSerializer, 404: ErrorSerializer}
    )
    def get(self, request, pk: int):
        agreement = _agreement_for(request, pk)
        return Response(AgreementSerializer(agreement, context={"base": _base(request)}).data)


def _not_signed(message: str) -> Response:
    return Response({"detail": message}, status=status.HTTP_409_CONFLICT)


class AgreementPdf(ApiView):
    """The stored, signed PDF (下载协议书)."""

    def perform_content_negotiation(self, request, force=False):
        # Errors are JSON whatever the client accepts; the PDF itself is a FileResponse.
        return JSONRenderer(), JSONRenderer.media_type

    @extend_schema(
        summary="The signed agreement (PDF)",
        responses={
            (200, "application/pdf"): OpenApiTypes.BINARY,
            202: OpenApiResponse(ErrorSerializer, description="being made: ask again later"),
            404: ErrorSerializer,
            409: OpenApiResponse(ErrorSerializer, description="not signed"),
        },
    )
    def get(self, request, pk: int):
        agreement = _agreement_for(request, pk)
        if not agreement.number:
            return _not_signed(_("The agreement can be downloaded once it is signed."))
        if not agreement.pdf:
            queue_pdf_again_if_stale(agreement)
            return Response(
                {"detail": _("The PDF is being made; ask again in a minute.")},
                status=status.HTTP_202_ACCEPTED,
                headers={"Retry-After": str(PDF_RETRY_AFTER_SECONDS)},
            )
        response = FileResponse(
            agreement.pdf.open("rb"),
            content_type="application/pdf",
            as_attachment=True,
            filename=f"就业协议书-{agreement.number}.pdf",
        )
        response["X-Content-Type-Options"] = "nosniff"
        return response


class AgreementVerification(ApiView):
    """What the public verification page behind the QR code shows."""

    @extend_schema(
        summary="What the public verification page shows",
        responses={
            200: VerificationSerializer,
            404: ErrorSerializer,
            409: OpenApiResponse(ErrorSerializer, description="not signed"),
        },
    )
    def get(self, request, pk: int):
        agreement = _agreement_for(request, pk)
        if not agreement.number:
            return _not_signed(_("An agreement can be verified once it is signed."))
        facts = verification_facts(agreement)
        data = {
            **facts,
            "number": agreement.number,
            "school": agreement.school.name,
            "signed_on": timezone.localdate(agreement.signed_at) if agreement.signed_at else None,
            "content_sha256": agreement.content_sha256,
            "verification_url": AgreementSerializer(
                agreement, context={"base": _base(request)}
            ).get_verification_url(agreement),
        }
        return Response(VerificationSerializer(data).data)
