"""A school reviewer's first sign-in: password, enrolment (QR code and secret), the recovery
codes shown once, then the next sign-in asks for the code from the app."""

import base64

import pytest
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.browser.conftest import FACTORY_PASSWORD, authenticator_code

pytestmark = pytest.mark.browser


def sign_in_with_password(page, live_server, username: str) -> None:
    page.goto(f"{live_server.url}/login/")
    form = page.locator("main form[method=post]")
    form.locator("input[name=username]").fill(username)
    form.locator("input[name=password]").fill(FACTORY_PASSWORD)
    with page.expect_navigation():
        form.locator("button[type=submit]").click()


def submit_code(page, code: str) -> None:
    form = page.locator("main form[method=post]")
    form.locator("input[name=code]").fill(code)
    with page.expect_navigation():
        form.locator("button[type=submit]").click()


def wrong_code(key: bytes) -> str:
    """A code the app shows at none of the steps the device accepts (now, before, after)."""
    totp, shown = TOTP(key), set()
    for offset in (-1, 0, 1):
        totp.time = totp.time + 30 * offset
        shown.add(f"{totp.token():06d}")
        del totp.time
    return next(code for code in ("000000", "111111", "222222", "333333") if code not in shown)


def test_a_school_reviewer_enrols_then_signs_in_with_a_code(
    page, live_server, school_reviewer, shoot
):
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text))

    sign_in_with_password(page, live_server, school_reviewer.username)
    assert "/account/security/enrol/" in page.url  # the queue must wait
    qr = page.locator("main img.qr-code")
    assert qr.get_attribute("src").startswith("data:image/svg+xml;base64,")
    assert page.evaluate("document.querySelector('main img.qr-code').naturalWidth") > 0
    shoot(page, "enrol", phone=True)

    # What an authenticator app does with the secret typed in by hand.
    secret = page.locator("#secret").inner_text().replace(" ", "")
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    submit_code(page, f"{TOTP(key).token():06d}")
    assert "/account/security/recovery-codes/" in page.url
    codes = page.locator("#recovery-codes li").all_inner_texts()
    assert len(codes) == 10
    shoot(page, "recovery-codes", phone=True)

    with page.expect_navigation():
        page.locator("main a.btn-primary").click()
    assert page.url.endswith("/reviews/")

    # Next time: password, then the code page.
    page.context.clear_cookies()
    sign_in_with_password(page, live_server, school_reviewer.username)
    assert "/second-factor/" in page.url
    submit_code(page, wrong_code(key))
    assert "/second-factor/" in page.url
    assert page.locator("main .invalid-feedback, main .text-danger").count() >= 1
    shoot(page, "wrong-code", phone=True)

    TOTPDevice.objects.filter(user=school_reviewer).update(throttling_failure_timestamp=None)
    submit_code(page, authenticator_code(TOTPDevice.objects.get(user=school_reviewer)))
    assert page.url.endswith("/reviews/")

    page.goto(f"{live_server.url}/account/security/")
    shoot(page, "security", phone=True)
    assert not [e for e in errors if "Content Security Policy" in e], errors
