"""What the API reads and answers. Input is checked by the portal's own form
(``InvitationForm``): the serializers here describe the shapes (and the schema), they add
no rule of their own."""

from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from agreements.models import Agreement, Hukou, Invitation


class GraduateSerializer(serializers.Serializer):
    name = serializers.CharField(source="real_name")
    id_number_masked = serializers.CharField(help_text="e.g. 110101********0012; never whole")


class TermsSerializer(serializers.Serializer):
    job_category = serializers.CharField(source="job_category.code", help_text="职位类别 code")
    job_category_name = serializers.CharField(source="job_category.name")
    position = serializers.CharField()
    work_location = serializers.CharField()
    probation_months = serializers.IntegerField()
    probation_salary = serializers.IntegerField(allow_null=True)
    salary = serializers.IntegerField(allow_null=True)
    penalty = serializers.IntegerField(allow_null=True)
    report_place = serializers.CharField()
    report_deadline = serializers.DateField(allow_null=True)
    hukou = serializers.ChoiceField(choices=Hukou.choices)
    supplement = serializers.CharField()


class InvitationSerializer(TermsSerializer):
    id = serializers.IntegerField()
    status = serializers.ChoiceField(
        source="shown_status",
        choices=Invitation.Status.choices,
        help_text="as the portal shows it: a pending invitation past its deadline is expired",
    )
    status_label = serializers.CharField(source="get_shown_status_display")
    graduate = GraduateSerializer(source="student")
    deadline = serializers.DateTimeField()
    created_at = serializers.DateTimeField()
    answered_at = serializers.DateTimeField(allow_null=True)
    agreement_id = serializers.SerializerMethodField()

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_agreement_id(self, invitation: Invitation) -> int | None:
        agreement = invitation.agreement_or_none
        return agreement.pk if agreement is not None else None


class AgreementSerializer(TermsSerializer):
    id = serializers.IntegerField()
    status = serializers.ChoiceField(choices=Agreement.Status.choices)
    status_label = serializers.CharField(source="get_status_display")
    number = serializers.CharField(allow_null=True, help_text="协议书编号, once signed")
    invitation_id = serializers.IntegerField()
    graduate = GraduateSerializer(source="student")
    unit_name = serializers.CharField(help_text="the unit's name as signed")
    created_at = serializers.DateTimeField(help_text="accepted by the graduate")
    signed_at = serializers.DateTimeField(allow_null=True)
    pdf_url = serializers.SerializerMethodField()
    verification_url = serializers.SerializerMethodField()

    @extend_schema_field(serializers.URLField(allow_null=True))
    def get_pdf_url(self, agreement: Agreement) -> str | None:
        if not agreement.number:
            return None
        return self._absolute(reverse("api:agreement_pdf", args=[agreement.pk]))

    @extend_schema_field(serializers.URLField(allow_null=True))
    def get_verification_url(self, agreement: Agreement) -> str | None:
        """The public page behind the PDF's QR code."""
        if not agreement.number:
            return None
        return self._absolute(reverse("agreements:verify", args=[agreement.verify_token]))

    def _absolute(self, path: str) -> str:
        return self.context["base"] + path


class InvitationInSerializer(serializers.Serializer):
    """One invitation to send: the fields of the portal's 发送签约邀请 form."""

    name = serializers.CharField(help_text="the graduate's name")
    id_number = serializers.CharField(help_text="the graduate's 身份证号")
    job_category = serializers.CharField(help_text="职位类别 code, e.g. 13")
    position = serializers.CharField()
    work_location = serializers.CharField()
    probation_months = serializers.IntegerField(min_value=0, help_text="0: no probation")
    probation_salary = serializers.IntegerField(required=False, allow_null=True)
    salary = serializers.IntegerField(required=False, allow_null=True)
    penalty = serializers.IntegerField(required=False, allow_null=True)
    report_place = serializers.CharField(required=False)
    report_deadline = serializers.DateField(required=False, allow_null=True)
    hukou = serializers.ChoiceField(choices=Hukou.choices)
    supplement = serializers.CharField(required=False)
    answer_by = serializers.DateField(
        required=False, allow_null=True, help_text="empty: the school's default validity"
    )


class RowResultSerializer(serializers.Serializer):
    row = serializers.IntegerField(help_text="0-based position in the request")
    ok = serializers.BooleanField()
    invitation = InvitationSerializer(required=False)
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()), required=False
    )


class BatchResultSerializer(serializers.Serializer):
    sent = serializers.IntegerField()
    refused = serializers.IntegerField()
    results = RowResultSerializer(many=True)


class VerificationSerializer(serializers.Serializer):
    state = serializers.ChoiceField(choices=["valid", "terminated", "void", "pending"])
    state_label = serializers.CharField()
    number = serializers.CharField()
    unit_name = serializers.CharField()
    graduate = serializers.CharField(source="masked_name", help_text="name masked: 彭*")
    school = serializers.CharField()
    signed_on = serializers.DateField(allow_null=True)
    content_sha256 = serializers.CharField()
    verification_url = serializers.URLField()


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField(required=False)
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()), required=False
    )
