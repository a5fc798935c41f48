"""No coercion: only the graduate acts on their own destination.

Every graduate action (accept or decline an invitation, save and submit a registration on
each path, withdraw or discard it, upload the stamped scan or ask the unit to, ask for or
answer a termination, ask to void, confirm the registry, file a 这不是我本人的意愿 report) is
requested by everybody else in the cast: another student, the college and school reviewers,
another school's reviewer, a platform admin (superuser, is_staff) and the units. Each is
refused by the view and by the service, and nothing of the graduate's changes; then the
graduate does the same thing, which proves the refusals were about who asked.

The list of graduate actions is checked against the URL configuration: a new URL of the
students' or agreements' pages fails ``test_every_url_is_classified`` until it is either
here or named, with its reason, in ``NOT_GRADUATE_ACTIONS``.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import Http404
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from agreements.models import (
    Agreement,
    Invitation,
    Registration,
    Termination,
    UnitSigningRequest,
)
from agreements.online import services as online
from agreements.registrations import changes
from agreements.registrations import services as reg
from agreements.scansign import services as scansign
from destreg.audit.models import AuditEvent, Notification
from students.coercion import coercion_report_file
from students.models import CoercionReport, RegistryRequest
from tests import factories as f

OUTSIDERS = (
    "other_student",
    "college_reviewer",
    "school_reviewer",
    "other_school_reviewer",
    "platform_admin",
    "employer_user",
    "other_employer_user",
)
STAFF = ("college_reviewer", "school_reviewer", "other_school_reviewer", "platform_admin")
PDF = f.pdf_bytes()
VALUES = {
    "offline": {
        "unit_name": "北京测试科技有限公司",
        "unit_uscc": "91110000100000000R",
        "contact_email": "hr@example.com",
        "position": "工程师",
    },
    "paper": {
        "unit_name": "纸质协议单位",
        "unit_uscc": "91110000100000000R",
        "paper_number": "P-1",
    },
    "other": {
        "kind": "further_study",
        "subtype": "研究生",
        "institution": "示例大学",
        "program": "计算机",
    },
}


def _pdf(name="scan.pdf"):
    return SimpleUploadedFile(name, PDF, content_type="application/pdf")


@dataclass
class Action:
    """A graduate action: its page (``url`` with ``data``), its service called as ``user``,
    and the graduate doing it (``owner``). ``outsiders``: who must be refused (a unit that is
    a party may do its own part, e.g. ask to terminate in its own name)."""

    url: str
    data: Callable[[], dict]
    service: Callable[[Any], Any] | None
    owner: Callable[[], Any] | None
    outsiders: tuple[str, ...] = OUTSIDERS
    # Statuses a party (another student, a unit) may get: the view shows the service's
    # refusal as a message and redirects. Staff roles always get 403 or 404.
    party_answers: tuple[int, ...] = (302, 400, 403, 404)
    extra: dict = field(default_factory=dict)


def _draft(student, path, **values):
    if path != "offline":  # the evidence rule's proof (offline: the stamped scan, later)
        values.setdefault("proof", _pdf("proof.pdf"))
    return reg.registration_save_draft(student=student, path=path, values=VALUES[path] | values)


def _submitted(student, path):
    item = _draft(student, path)
    reg.registration_submit(registration=item, user=student.user)
    return Registration.objects.get(pk=item.pk)


def _approved(student, path, c, s, **values):
    item = _draft(student, path, **values)
    reg.registration_submit(registration=item, user=student.user)
    for reviewer in (c, s):
        reg.registration_review(registration=item, reviewer=reviewer, decision="approve")
    return Registration.objects.get(pk=item.pk)  # offline: 信息审核通过, waiting for the scan


def _answer_invitation(fx, answer):
    invitation = fx("invitation")
    student = fx("student")
    service = online.invitation_accept if answer == "accept" else online.invitation_decline
    return Action(
        url=reverse("agreements:invitation_answer", args=[invitation.pk]),
        data=lambda: {"answer": answer, "confirm": "1"},
        service=lambda user: service(invitation=invitation, user=user),
        owner=lambda: service(invitation=invitation, user=student.user),
    )


def _submit(fx, path):
    student = fx("student")
    item = _draft(student, path)
    return Action(
        url=reverse("agreements:registration_edit", args=[item.pk]),
        data=lambda: {"action": "submit", **VALUES[path]},
        service=lambda user: reg.registration_submit(registration=item, user=user),
        owner=lambda: reg.registration_submit(registration=item, user=student.user),
    )


def _save_draft(fx, path):
    item = _draft(fx("student"), path)
    return Action(
        url=reverse("agreements:registration_edit", args=[item.pk]),
        data=lambda: {"action": "draft", **VALUES[path], "unit_name": "改过的单位"},
        service=None,  # the draft service takes the graduate's own profile, never a user
        owner=None,
    )


def _new(fx, path):
    return Action(
        url=reverse("agreements:registration_new", args=[path]),
        data=lambda: {"action": "submit", **VALUES[path]},
        service=None,
        owner=None,
        # Another student posting here registers their own destination, not this one's.
        outsiders=tuple(role for role in OUTSIDERS if role != "other_student"),
    )


def _withdraw(fx):
    student = fx("student")
    item = _submitted(student, "paper")
    reg.registration_review(
        registration=item, reviewer=fx("college_reviewer"), decision="return", comment="补充"
    )
    return Action(
        url=reverse("agreements:registration_withdraw", args=[item.pk]),
        data=dict,
        service=lambda user: reg.registration_withdraw(registration=item, user=user),
        owner=lambda: reg.registration_withdraw(registration=item, user=student.user),
    )


def _discard(fx):
    student = fx("student")
    item = _draft(student, "paper")
    return Action(
        url=reverse("agreements:registration_discard", args=[item.pk]),
        data=dict,
        service=lambda user: reg.registration_discard(registration=item, user=user),
        owner=lambda: reg.registration_discard(registration=item, user=student.user),
    )


def _info_approved(fx):
    student = fx("student")
    item = _approved(student, "offline", fx("college_reviewer"), fx("school_reviewer"))
    assert item.status == "info_approved"
    return student, item


def _scan(fx):
    student, item = _info_approved(fx)
    return Action(
        url=reverse("agreements:registration_scan", args=[item.pk]),
        data=lambda: {"scan": _pdf()},
        service=lambda user: reg.registration_upload_scan(
            registration=item, scan=_pdf(), user=user
        ),
        owner=lambda: reg.registration_upload_scan(
            registration=item, scan=_pdf(), user=student.user
        ),
    )


def _return_link(fx):
    student, item = _info_approved(fx)
    return Action(
        url=reverse("agreements:registration_return_link", args=[item.pk]),
        data=dict,
        service=lambda user: reg.return_link_send(registration=item, user=user),
        owner=lambda: reg.return_link_send(registration=item, user=student.user),
    )


def _terminate_online(fx):
    signed, student = fx("signed"), fx("student")
    return Action(
        url=reverse("agreements:terminate", args=[signed.pk]),
        data=lambda: {"reason": "另有安排"},
        service=lambda user: online.termination_request(agreement=signed, user=user, reason="r"),
        owner=lambda: online.termination_request(agreement=signed, user=student.user, reason="r"),
        # The unit may ask to terminate in its own name (requested_by = employer).
        outsiders=tuple(role for role in OUTSIDERS if role != "employer_user"),
    )


def _answer_online(fx):
    signed, student = fx("signed"), fx("student")
    termination = online.termination_request(
        agreement=signed, user=fx("employer_user"), reason="单位调整"
    )
    return Action(
        url=reverse("agreements:termination_answer", args=[termination.pk]),
        data=lambda: {"agree": "1"},
        service=lambda user: online.termination_answer(
            termination=termination, user=user, agree=True
        ),
        owner=lambda: online.termination_answer(
            termination=termination, user=student.user, agree=True
        ),
    )


def _terminate_registration(fx):
    student = fx("student")
    item = _approved(student, "paper", fx("college_reviewer"), fx("school_reviewer"))

    def ask(user):
        return changes.registration_termination_request(
            registration=item, user=user, reason="r", unit_email="unit@example.com"
        )

    return Action(
        url=reverse("agreements:registration_terminate", args=[item.pk]),
        data=lambda: {"reason": "另有安排", "unit_email": "unit@example.com"},
        service=ask,
        owner=lambda: ask(student.user),
    )


def _void(fx):
    student = fx("student")
    item = _approved(student, "other", fx("college_reviewer"), fx("school_reviewer"))
    return Action(
        url=reverse("agreements:registration_void", args=[item.pk]),
        data=lambda: {"reason": "升学未成"},
        service=lambda user: changes.void_request(registration=item, user=user, reason="r"),
        owner=lambda: changes.void_request(registration=item, user=student.user, reason="r"),
    )


def _answer_registration(fx):
    student, unit = fx("student"), fx("employer_user")
    item = _approved(
        student,
        "paper",
        fx("college_reviewer"),
        fx("school_reviewer"),
        unit_uscc=unit.employer.uscc,
    )
    termination = changes.registration_termination_request(
        registration=item, user=unit, reason="单位调整"
    )

    def answer(user):
        return changes.registration_termination_answer(
            termination=termination, agree=True, user=user
        )

    return Action(
        url=reverse("agreements:registration_change_answer", args=[termination.pk]),
        data=lambda: {"agree": "1"},
        service=answer,
        owner=lambda: answer(student.user),
    )


def _student_page(name):
    def build(fx):
        fx("student")
        return Action(
            url=reverse(name),
            data=lambda: {"channel": "sms", "code": "123456", "school": "1"},
            service=None,  # keyed by the graduate's own profile and the code sent to them
            owner=None,
            # Another student doing these acts on their own account.
            outsiders=tuple(role for role in OUTSIDERS if role != "other_student"),
        )

    return build


def _not_my_will(fx):
    agreement, student = fx("agreement"), fx("student")
    online.agreement_fail(agreement=agreement, reviewer=fx("college_reviewer"), reason="x")
    url = Notification.objects.filter(user=student.user).exclude(report_url="").get().report_url
    token = url.rstrip("/").rsplit("/", 1)[1]
    return Action(
        url=url,
        data=lambda: {"text": "不是我"},
        service=lambda user: coercion_report_file(user=user, token=token),
        owner=lambda: coercion_report_file(user=student.user, token=token),
    )


def _unit_signing(fx, service):
    """扫码签约: the graduate's request to a unit without an account (取消, send again)."""
    student = fx("student")
    item, _ = scansign.unit_signing_start(
        user=student.user,
        unit_name="未注册单位",
        unit_uscc="91110000100000000R",
        contact_name="王经理",
        contact_email="hr@example.com",
    )
    # Sent a while ago, so sending again is not refused for being too soon.
    UnitSigningRequest.objects.filter(pk=item.pk).update(
        last_sent_at=item.last_sent_at - timedelta(hours=1)
    )
    name = "cancel" if service is scansign.unit_signing_cancel else "resend"
    return Action(
        url=reverse(f"agreements:unit_request_{name}", args=[item.pk]),
        data=dict,
        service=lambda user: service(item=item, user=user),
        owner=lambda: service(item=item, user=student.user),
    )


ACTIONS: dict[str, Callable] = {
    "accept_invitation": lambda fx: _answer_invitation(fx, "accept"),
    "decline_invitation": lambda fx: _answer_invitation(fx, "decline"),
    **{f"submit_{path}": (lambda fx, p=path: _submit(fx, p)) for path in VALUES},
    **{f"save_draft_{path}": (lambda fx, p=path: _save_draft(fx, p)) for path in VALUES},
    **{f"new_{path}": (lambda fx, p=path: _new(fx, p)) for path in VALUES},
    "withdraw": _withdraw,
    "discard": _discard,
    "upload_scan": _scan,
    "ask_unit_to_return_scan": _return_link,
    "request_termination_online": _terminate_online,
    "answer_termination_online": _answer_online,
    "request_termination_registration": _terminate_registration,
    "request_void": _void,
    "answer_termination_registration": _answer_registration,
    "confirm_registry": _student_page("students:confirm"),
    "send_confirmation_code": _student_page("students:send_code"),
    "registry_import_request": _student_page("students:import_request"),
    "registry_update_request": _student_page("students:update_request"),
    "contact_details": _student_page("students:account"),
    "report_not_my_will": _not_my_will,
    "cancel_unit_signing": lambda fx: _unit_signing(fx, scansign.unit_signing_cancel),
    "resend_unit_signing_link": lambda fx: _unit_signing(fx, scansign.unit_signing_resend),
}

# The URL names the actions above post to.
GRADUATE_ACTIONS = {
    "agreements:invitation_answer",
    "agreements:registration_edit",
    "agreements:registration_new",
    "agreements:registration_withdraw",
    "agreements:registration_discard",
    "agreements:registration_scan",
    "agreements:registration_return_link",
    "agreements:terminate",
    "agreements:termination_answer",
    "agreements:registration_terminate",
    "agreements:registration_void",
    "agreements:registration_change_answer",
    "students:confirm",
    "students:send_code",
    "students:import_request",
    "students:update_request",
    "students:account",
    "students:not_my_will",
    "agreements:unit_request_cancel",
    "agreements:unit_request_resend",
}
NOT_GRADUATE_ACTIONS = {
    # pages that only show (GET), for the graduate and the staff who review
    "agreements:agreement": "read only",
    "agreements:invitation": "read only",
    "agreements:invitations": "read only",
    "agreements:mine": "read only",
    "agreements:register": "read only: the path chooser",
    "agreements:registration": "read only",
    "agreements:registration_file": "read only",
    "agreements:registration_pdf": "read only",
    "agreements:download": "read only",
    "agreements:termination_document": "read only",
    "agreements:change_document": "read only",
    "agreements:unit_search": "read only: the unit lookup of the form",
    "agreements:verify": "public verification of a PDF",
    "agreements:unit_request": "read only",
    "agreements:unit_request_qr": "read only: the QR code of the graduate's own link",
    # 扫码签约 is started by the graduate for themself only (no other graduate's record is
    # named); other roles are refused: tests/agreements/test_scan_signing.py
    "agreements:unit_request_new": "the graduate starts their own request",
    "students:home": "read only",
    "students:request_detail": "read only",
    # the unit's own part, in its own name
    "agreements:invite": "the unit invites",
    "agreements:sent": "the unit's list",
    "agreements:batches": "the unit's batch invitations",
    "agreements:batch_new": "the unit's batch invitations",
    "agreements:batch_template": "the unit's batch invitations",
    "agreements:batch": "the unit's batch invitations",
    "agreements:batch_send": "the unit's batch invitations",
    "agreements:batch_result": "the unit's batch invitations",
    "agreements:unit_registrations": "the unit's portal",
    "agreements:return": "the unit's one-time return link",
    "agreements:termination_link": "the unit's one-time termination link",
    "agreements:termination_link_request": "the unit asks for its link",
    "agreements:unit_sign": "the unit's one-time 扫码签约 link (it confirms or declines)",
    "agreements:term_templates": "the unit's terms templates",
    "agreements:term_template_new": "the unit's terms templates",
    "agreements:term_template_edit": "the unit's terms templates",
    "agreements:term_template_delete": "the unit's terms templates",
    "agreements:webhooks": "the unit's webhooks for its HR system",
    "agreements:webhook_new": "the unit's webhooks for its HR system",
    "agreements:webhook": "the unit's webhooks for its HR system",
    "agreements:webhook_edit": "the unit's webhooks for its HR system",
    "agreements:webhook_delete": "the unit's webhooks for its HR system",
    "agreements:webhook_rotate": "the unit's webhooks for its HR system",
    "agreements:webhook_test": "the unit's webhooks for its HR system",
    "agreements:webhook_resend": "the unit's webhooks for its HR system",
    # 撤回申请: whoever asked (the student or the unit) takes back their own request; the
    # refusals of everybody else: tests/agreements/test_termination_withdraw.py
    "agreements:change_withdraw": "the asker withdraws their own request",
    # accounts: the graduate signs up and signs in as themself
    "students:signup": "creates a new account, nobody else's",
    "sso:login": "the school's sign-on authenticates the graduate",
    "sso:callback": "the school's sign-on authenticates the graduate",
}


def _urls(namespaces=("agreements", "students", "sso")):
    def walk(patterns, namespace=""):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                inner = namespace + (f"{pattern.namespace}:" if pattern.namespace else "")
                yield from walk(pattern.url_patterns, inner)
            elif isinstance(pattern, URLPattern) and pattern.name:
                yield namespace + pattern.name

    return {name for name in walk(get_resolver().url_patterns) if name.split(":")[0] in namespaces}


def test_every_url_is_classified():
    assert GRADUATE_ACTIONS.isdisjoint(NOT_GRADUATE_ACTIONS)
    assert _urls() == GRADUATE_ACTIONS | set(NOT_GRADUATE_ACTIONS)


def _snapshot(student, user) -> tuple:
    """Everything of the graduate's that an action could change, and what ``user`` did."""
    mine = {"student": student}
    return (
        list(Invitation.objects.filter(**mine).values_list("pk", "status")),
        list(Agreement.objects.filter(**mine).values_list("pk", "status")),
        list(Registration.objects.filter(**mine).values_list("pk", "status", "unit_name")),
        list(Termination.objects.filter(agreement__student=student).values_list("pk", "status")),
        list(Termination.objects.filter(registration__student=student).values_list("pk", "status")),
        list(RegistryRequest.objects.filter(**mine).values_list("pk", "status")),
        list(UnitSigningRequest.objects.filter(**mine).values_list("pk", "status", "token_digest")),
        CoercionReport.objects.filter(**mine).count(),
        AuditEvent.objects.filter(actor=user).count(),
        (student.__class__.objects.filter(pk=student.pk).values_list("mobile", flat=True)[0]),
    )


@pytest.mark.parametrize("name", sorted(ACTIONS))
def test_only_the_graduate_does_it(client, request, name, student, mailoutbox):
    def fx(fixture):
        return request.getfixturevalue(fixture)

    action = ACTIONS[name](fx)
    student.refresh_from_db()
    for role in action.outsiders:
        user = fx(role)
        user = getattr(user, "user", user)
        before = _snapshot(student, user)
        client.force_login(user)
        answer = client.post(action.url, action.data()).status_code
        allowed = (403, 404) if role in STAFF else action.party_answers
        assert answer in allowed, (role, answer)
        assert _snapshot(student, user) == before, f"{role} changed it through the page"
        if action.service is not None:
            with pytest.raises((PermissionDenied, Http404)):
                action.service(user)
            assert _snapshot(student, user) == before, f"{role} changed it through the service"
    if action.owner is not None:
        before = _snapshot(student, student.user)
        action.owner()  # the graduate may: the refusals above were about who asked
        assert _snapshot(student, student.user) != before


def test_a_platform_admin_cannot_change_a_destination_in_the_django_admin(
    client, platform_admin, signed, student
):
    client.force_login(platform_admin)
    item = _draft(student, "paper")
    pages = [
        ("agreements", "agreement", signed.pk),
        ("agreements", "invitation", signed.invitation_id),
        ("agreements", "registration", item.pk),
    ]
    for app, model, pk in pages:
        change = reverse(f"admin:{app}_{model}_change", args=[pk])
        page = client.get(change)
        assert page.status_code == 200  # it may look
        assert b'name="_save"' not in page.content
        assert client.post(change, {"status": "failed", "student": student.pk}).status_code == 403
        assert client.get(reverse(f"admin:{app}_{model}_add")).status_code == 403
    signed.refresh_from_db()
    assert signed.status == "signed"
    assert Registration.objects.get(pk=item.pk).status == "draft"
    # The graduate's profile cannot be handed to another account.
    other = f.make_user()
    client.post(
        reverse("admin:students_student_change", args=[student.pk]),
        {"user": other.pk, "real_name": student.real_name, "mobile": student.mobile},
    )
    student.refresh_from_db()
    assert student.user_id != other.pk
    assert client.get(reverse("admin:students_student_add")).status_code == 403
