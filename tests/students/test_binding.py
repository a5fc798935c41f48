"""The first-login check binds a record only to whoever receives its one-time code."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from agreements.online.services import find_invitable_student
from destreg.lib import sms
from destreg.lib.clients import client_ip
from students import binding, codes, services
from students.models import RegistryCode, RegistryRecord, RegistryRequest, Student
from tests import factories as f

HOME = reverse("students:home")
SIGNUP = reverse("students:signup")
SEND = reverse("students:send_code")
CONFIRM = reverse("students:confirm")
ID_NUMBER = "110101200301010012"


@pytest.fixture
def record(world):
    return f.make_record(
        world.major_a1,
        name="彭也",
        id_number=ID_NUMBER,
        mobile="13812345678",
        email="pengye@school.example.edu.cn",
    )


@pytest.fixture
def graduate(record):
    return f.make_student(record, confirmed=False)


def _signup(client, username: str):
    client.logout()
    return client.post(
        SIGNUP,
        {
            "username": username,
            "real_name": "彭也",
            "id_number": ID_NUMBER,
            "mobile": "13900000000",
            "email": f"{username}@example.com",
            "password1": "Gr4duate-2026!",
            "password2": "Gr4duate-2026!",
        },
    )


def _messages(client) -> str:
    return " ".join(str(m) for m in client.get(HOME).context["messages"])


def test_the_takeover_replayed_end_to_end_fails(client, record, sms_outbox):
    # The attacker knows the victim's name and ID number, and signs up with them.
    assert _signup(client, "attacker").status_code == 302
    attacker = Student.objects.get(user__username="attacker")
    # Confirming without the code links nothing, whatever is typed.
    for guess in ["", "000000", "123456"]:
        client.post(CONFIRM, {"code": guess})
    # Asking for a code sends it to the school's number for the victim, not to the attacker.
    f.send_code(client)
    assert [message.to for message in sms_outbox] == ["13812345678"]
    for guess in ["111111", "222222", "333333", "444444", "555555"]:
        client.post(CONFIRM, {"code": guess})
    attacker.refresh_from_db()
    assert not attacker.is_confirmed and attacker.record is None

    # The victim can still sign up and confirm with the code their phone receives.
    response = _signup(client, "victim")
    assert response.status_code == 302
    client.get(HOME)  # read the welcome message
    victim = Student.objects.get(user__username="victim")
    RegistryCode.objects.update(created_at=timezone.now() - timedelta(minutes=2))
    code = f.send_code(client)
    client.post(CONFIRM, {"code": code})
    victim.refresh_from_db()
    assert victim.is_confirmed and victim.record == record

    # Now the attacker is told the record is taken and can have no code sent.
    client.force_login(attacker.user)
    page = client.get(HOME).content.decode()
    assert 'id="record-taken"' in page and SEND not in page
    sms_outbox.clear()
    client.post(SEND, {"channel": "sms"})
    assert sms_outbox == []


def test_a_code_sent_for_one_account_does_not_confirm_another(client, graduate, sms_outbox):
    intruder = f.make_student(real_name="彭也", id_number=ID_NUMBER, confirmed=False)
    client.force_login(graduate.user)
    code = f.send_code(client)
    client.force_login(intruder.user)
    client.post(CONFIRM, {"code": code})
    intruder.refresh_from_db()
    assert not intruder.is_confirmed


def test_the_code_can_go_by_e_mail(client, graduate, mailoutbox, sms_outbox):
    client.force_login(graduate.user)
    code = f.send_code(client, channel="email")
    assert mailoutbox[-1].to == ["pengye@school.example.edu.cn"]
    assert sms_outbox == []
    client.post(CONFIRM, {"code": code})
    graduate.refresh_from_db()
    assert graduate.is_confirmed


def test_codes_are_stored_hashed(client, graduate):
    client.force_login(graduate.user)
    code = f.send_code(client)
    row = RegistryCode.objects.get()
    assert code not in row.code_hash
    assert row.code_hash == codes.code_hash(code)
    assert row.client_ip == "127.0.0.1"  # the client address, through client_ip()


def test_an_expired_code_is_refused(client, graduate):
    client.force_login(graduate.user)
    code = f.send_code(client)
    RegistryCode.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    client.post(CONFIRM, {"code": code})
    graduate.refresh_from_db()
    assert not graduate.is_confirmed
    shown = _messages(client)
    assert "expired" in shown or "已过期" in shown


def test_a_code_lasts_ten_minutes(client, graduate):
    client.force_login(graduate.user)
    f.send_code(client)
    row = RegistryCode.objects.get()
    assert row.expires_at - row.created_at == pytest.approx(
        timedelta(minutes=10), abs=timedelta(seconds=1)
    )


def test_five_wrong_tries_use_up_the_code(client, graduate):
    client.force_login(graduate.user)
    code = f.send_code(client)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    for _try in range(5):
        client.post(CONFIRM, {"code": wrong})
    assert RegistryCode.objects.get().attempts == 5
    client.post(CONFIRM, {"code": code})  # even the right code is too late now
    graduate.refresh_from_db()
    assert not graduate.is_confirmed
    RegistryCode.objects.update(created_at=timezone.now() - timedelta(minutes=2))
    client.post(CONFIRM, {"code": f.send_code(client)})  # a new code is needed, and works
    graduate.refresh_from_db()
    assert graduate.is_confirmed


def test_a_wrong_try_says_how_many_are_left(graduate):
    binding.registry_code_send(student=graduate, channel="sms", client_ip="10.0.0.1")
    with pytest.raises(ValidationError, match=r"not valid|无效"):
        binding.registry_confirm(student=graduate, code="ABCD-EFGH-JKLM")  # no activation code
    with pytest.raises(ValidationError) as raised:
        binding.registry_confirm(student=graduate, code=_wrong_code())
    assert "4" in raised.value.messages[0]


def _wrong_code() -> str:
    # Hashes are keyed: find a 6-digit value that is not the live code.
    row = RegistryCode.objects.live().get()
    return next(
        c for c in (f"{n:06d}" for n in range(10)) if not codes.code_matches(c, row.code_hash)
    )


def test_a_new_code_voids_the_previous_one(graduate, sms_outbox):
    with transaction.atomic():
        binding.registry_code_send(student=graduate, channel="sms", client_ip="10.0.0.1")
    RegistryCode.objects.update(created_at=timezone.now() - timedelta(minutes=2))
    binding.registry_code_send(student=graduate, channel="sms", client_ip="10.0.0.1")
    assert RegistryCode.objects.live().count() == 1


def test_sending_is_limited_per_account(graduate):
    addresses = iter(f"10.0.0.{n}" for n in range(1, 50))  # not the per-address limits
    send = lambda: binding.registry_code_send(  # noqa: E731
        student=graduate, channel="sms", client_ip=next(addresses)
    )
    send()
    with pytest.raises(ValidationError, match=r"minute|分钟"):
        send()  # one a minute
    for _n in range(codes.SENDS_PER_ACCOUNT_PER_HOUR - 1):
        RegistryCode.objects.update(created_at=timezone.now() - timedelta(minutes=2))
        send()
    RegistryCode.objects.update(created_at=timezone.now() - timedelta(minutes=2))
    with pytest.raises(ValidationError):
        send()  # five an hour
    assert RegistryCode.objects.count() == codes.SENDS_PER_ACCOUNT_PER_HOUR
    RegistryCode.objects.update(created_at=timezone.now() - timedelta(minutes=61))
    send()  # an hour later it sends again


def test_sending_is_limited_per_client_address(world, graduate, settings):
    settings.CODE_SENDS_PER_CLIENT_PER_HOUR = 4
    other_record = f.make_record(world.major_a1, mobile="13700000000")
    for _n in range(4):
        RegistryCode.objects.create(
            record=other_record,
            kind=RegistryCode.Kind.SENT,
            code_hash="x",
            expires_at=timezone.now(),
            client_ip="10.0.0.9",
        )
    with pytest.raises(ValidationError):
        binding.registry_code_send(student=graduate, channel="sms", client_ip="10.0.0.9")
    binding.registry_code_send(student=graduate, channel="sms", client_ip="10.0.0.10")


def test_the_rate_limit_message_reaches_the_page(client, graduate, sms_outbox):
    client.force_login(graduate.user)
    f.send_code(client)
    client.post(SEND, {"channel": "sms"})
    assert len(sms_outbox) == 1
    shown = _messages(client)
    assert "wait a moment" in shown or "请稍候再试" in shown


def test_a_channel_the_record_lacks_is_refused(world):
    record = f.make_record(world.major_a1, mobile="13812345678", email="")
    graduate = f.make_student(record, confirmed=False)
    with pytest.raises(ValidationError):
        binding.registry_code_send(student=graduate, channel="email", client_ip="")


def test_a_record_without_contacts_asks_for_an_activation_code(client, world):
    record = f.make_record(world.major_a1)
    graduate = f.make_student(record, confirmed=False)
    client.force_login(graduate.user)
    page = client.get(HOME).content.decode()
    assert SEND not in page
    assert CONFIRM in page
    assert "激活码" in page or "activation code" in page


def test_the_activation_code_confirms_once(world, graduate, college_reviewer):
    code = binding.activation_code_issue(
        record=_without_contacts(graduate), reviewer=college_reviewer
    )
    binding.registry_confirm(student=graduate, code=code.lower().replace("-", " "))
    graduate.refresh_from_db()
    assert graduate.is_confirmed and graduate.confirmed_via == "activation"
    assert RegistryCode.objects.get().used_at is not None


def test_an_expired_activation_code_is_refused(graduate, college_reviewer):
    code = binding.activation_code_issue(
        record=_without_contacts(graduate), reviewer=college_reviewer
    )
    row = RegistryCode.objects.get()
    assert row.expires_at - row.created_at == pytest.approx(
        timedelta(days=7), abs=timedelta(seconds=1)
    )
    RegistryCode.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    with pytest.raises(ValidationError):
        binding.registry_confirm(student=graduate, code=code)


def graduate_record(graduate):
    return binding.find_current_record(graduate)


def _without_contacts(graduate):
    """The graduate's record, with no phone or e-mail: what activation codes are for."""
    RegistryRecord.objects.filter(id_number_digest=graduate.id_number_digest).update(
        mobile="", email=""
    )
    return graduate_record(graduate)


def test_a_bound_record_is_refused_without_sending(graduate, record, sms_outbox):
    f.make_student(record, real_name="彭也", id_number=ID_NUMBER)  # the real one, confirmed
    with pytest.raises(ValidationError, match=r"another account|其他账号"):
        binding.registry_code_send(student=graduate, channel="sms", client_ip="")
    assert not RegistryCode.objects.exists()


# --- registry_bind, the door other confirmations use -----------------------------------------


def test_registry_bind_stores_the_method_and_withdraws_an_import_request(graduate, record):
    request = services.registry_request_submit(
        student=graduate, kind="import", school=record.school, data={"student_no": "X1"}
    )
    binding.registry_bind(student=graduate, record=record, method="sso", actor=None)
    graduate.refresh_from_db()
    assert (graduate.record, graduate.confirmed_via) == (record, "sso")
    assert RegistryRequest.objects.get(pk=request.pk).status == "rejected"


def test_registry_bind_refuses_a_record_of_another_id_number(world, graduate):
    stranger = f.make_record(world.major_a1, name="彭也")
    with pytest.raises(ValidationError):
        binding.registry_bind(student=graduate, record=stranger, method="sso", actor=None)


def test_registry_bind_refuses_a_record_bound_to_another_account(graduate, record):
    f.make_student(record)
    with pytest.raises(ValidationError):
        binding.registry_bind(student=graduate, record=record, method="code", actor=None)


def test_only_one_confirmed_account_per_id_number(world, record):
    f.make_student(record)
    # A record of an earlier class: a graduate has one record a year.
    twin = f.make_record(
        world.major_a2, name="彭也", id_number=ID_NUMBER, graduation_year=record.graduation_year - 1
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        f.make_student(twin)


def test_employers_find_only_the_confirmed_account(world, record):
    f.make_student(real_name="彭也", id_number=ID_NUMBER, confirmed=False)
    assert find_invitable_student("彭也", ID_NUMBER) is None
    confirmed = f.make_student(record)
    f.make_student(real_name="彭也", id_number=ID_NUMBER, confirmed=False)
    assert find_invitable_student("彭也", ID_NUMBER) == confirmed


def test_an_import_request_cannot_claim_an_existing_record_s_id_number(
    graduate, record, school_reviewer
):
    request = services.registry_request_submit(
        student=graduate, kind="import", school=record.school, data={"student_no": "X9"}
    )
    with pytest.raises(ValidationError):
        services.registry_request_approve(request=request, reviewer=school_reviewer)
    graduate.refresh_from_db()
    assert not graduate.is_confirmed


# --- the SMS backends and the client address --------------------------------------------------


def test_the_locmem_backend_keeps_messages_in_the_outbox(sms_outbox):
    assert sms.send_sms("13812345678", "hello") == 1
    assert sms_outbox == [sms.SmsMessage(to="13812345678", body="hello")]


def test_the_console_backend_prints_messages(settings):
    stream = StringIO()
    sms.ConsoleBackend(stream).send_messages([sms.SmsMessage("13812345678", "code 123456")])
    assert "13812345678" in stream.getvalue() and "123456" in stream.getvalue()


def test_the_embedded_default_is_the_console_backend():
    from destreg import settings as project

    assert project.SMS_BACKEND == "destreg.lib.sms.ConsoleBackend"


def test_the_base_backend_must_be_subclassed():
    with pytest.raises(NotImplementedError):
        sms.BaseSmsBackend().send_messages([])


def test_client_ip_is_the_remote_address():
    request = RequestFactory().get("/", REMOTE_ADDR="203.0.113.5", HTTP_X_FORWARDED_FOR="1.2.3.4")
    assert client_ip(request) == "203.0.113.5"


def test_demo_student1_confirms_with_the_code_the_console_prints(
    client, reference_data, settings, capsys, django_capture_on_commit_callbacks
):
    import re

    from destreg.demo.data import seed

    seed()
    settings.SMS_BACKEND = "destreg.lib.sms.ConsoleBackend"
    student = Student.objects.get(user__username="student1")
    client.force_login(student.user)
    assert "138****0001" in client.get(HOME).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(SEND, {"channel": "sms"})
    printed = capsys.readouterr().out
    assert "SMS to 13800000001" in printed
    code = re.search(r"\b\d{6}\b", printed.split("SMS to 13800000001", 1)[1]).group()
    client.post(CONFIRM, {"code": code})
    student.refresh_from_db()
    assert student.is_confirmed and student.confirmed_via == "code"


def test_an_intruder_cannot_use_up_the_activation_code(world, graduate, college_reviewer):
    record = _without_contacts(graduate)
    code = binding.activation_code_issue(record=record, reviewer=college_reviewer)
    intruder = f.make_student(real_name="彭也", id_number=ID_NUMBER, confirmed=False)
    for _try in range(RegistryCode.MAX_ATTEMPTS + 2):
        with pytest.raises(ValidationError):
            binding.registry_confirm(student=intruder, code="AAAA-AAAA-AAAA")
    with pytest.raises(ValidationError, match=r"no tries|尝试次数已用完"):
        binding.registry_confirm(student=intruder, code=code)  # five tries per account
    binding.registry_confirm(student=graduate, code=code)  # the graduate's code still works
    graduate.refresh_from_db()
    assert graduate.is_confirmed


# --- the record's own contacts hear of every binding ------------------------------------------


@pytest.mark.parametrize("method", ["code", "sso", "activation"])
def test_every_binding_tells_the_record_s_phone_and_e_mail(
    graduate, record, method, sms_outbox, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        binding.registry_bind(student=graduate, record=record, method=method, actor=None)
    username = graduate.user.username
    assert [message.to for message in sms_outbox] == [record.mobile]
    assert username in sms_outbox[0].body and record.school.name in sms_outbox[0].body
    assert [message.to for message in mailoutbox] == [[record.email]]
    body = mailoutbox[0].body
    assert username in body and record.school.name in body
    assert ID_NUMBER not in body + sms_outbox[0].body


def test_a_binding_tells_no_one_when_it_is_refused(
    world, graduate, record, sms_outbox, mailoutbox, django_capture_on_commit_callbacks
):
    f.make_student(record, real_name="彭也", id_number=ID_NUMBER)
    with pytest.raises(ValidationError), django_capture_on_commit_callbacks(execute=True):
        binding.registry_bind(student=graduate, record=record, method="code", actor=None)
    assert sms_outbox == [] and mailoutbox == []


def test_a_binding_without_contacts_sends_nothing(
    world, sms_outbox, mailoutbox, django_capture_on_commit_callbacks
):
    bare = f.make_record(world.major_a1)
    student = f.make_student(bare, confirmed=False)
    with django_capture_on_commit_callbacks(execute=True):
        binding.registry_bind(student=student, record=bare, method="activation", actor=None)
    assert sms_outbox == [] and mailoutbox == []


# --- someone else's sends do not block the graduate's ----------------------------------------


def _age_codes(minutes: int = 2) -> None:
    RegistryCode.objects.update(created_at=timezone.now() - timedelta(minutes=minutes))


def test_an_impostor_s_sends_do_not_use_up_the_graduate_s(graduate, sms_outbox):
    impostor = f.make_student(real_name="彭也", id_number=ID_NUMBER, confirmed=False)
    for _n in range(codes.SENDS_PER_ACCOUNT_PER_HOUR):
        binding.registry_code_send(student=impostor, channel="sms", client_ip="10.9.9.9")
        _age_codes()
    with pytest.raises(ValidationError):
        binding.registry_code_send(student=impostor, channel="sms", client_ip="10.9.9.9")
    # The graduate, from their own network, still gets a code (one sent just now does not
    # make them wait either).
    binding.registry_code_send(student=graduate, channel="sms", client_ip="10.0.0.1")
    assert RegistryCode.objects.filter(student=graduate).count() == 1


def test_the_record_gets_at_most_ten_codes_an_hour_from_all_accounts(graduate):
    for n in range(codes.SENDS_PER_RECORD_PER_HOUR):
        impostor = f.make_student(real_name="彭也", id_number=ID_NUMBER, confirmed=False)
        binding.registry_code_send(student=impostor, channel="sms", client_ip=f"10.1.0.{n}")
    with pytest.raises(ValidationError, match=r"school's employment office|就业"):
        binding.registry_code_send(student=graduate, channel="sms", client_ip="10.0.0.1")
    _age_codes(61)
    binding.registry_code_send(student=graduate, channel="sms", client_ip="10.0.0.1")


def test_one_address_cannot_use_up_a_record_s_hourly_cap_alone(graduate):
    for _n in range(codes.SENDS_PER_RECORD_PER_CLIENT_PER_HOUR):
        impostor = f.make_student(real_name="彭也", id_number=ID_NUMBER, confirmed=False)
        binding.registry_code_send(student=impostor, channel="sms", client_ip="10.9.9.9")
    another = f.make_student(real_name="彭也", id_number=ID_NUMBER, confirmed=False)
    with pytest.raises(ValidationError, match=r"network|网络"):
        binding.registry_code_send(student=another, channel="sms", client_ip="10.9.9.9")
    binding.registry_code_send(student=graduate, channel="sms", client_ip="10.0.0.1")
