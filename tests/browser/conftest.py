"""Shared fixtures for the end-to-end browser tests (Playwright driving Debian's Chromium).

``browser`` is launched once per session; ``page`` gives each test a fresh
context (own cookies) at desktop width; ``new_page`` opens further isolated
contexts, e.g. a reviewer next to a student. ``login`` signs in through the
real form so django-axes sees the attempt, and ``shoot`` saves screenshots to
var/screenshots/<test-name>-<step>.png.
"""

import os
import re
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in this thread; Django would otherwise
# refuse ORM calls made from the test body while the browser is alive.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"
TIMEOUT_MS = 15_000
FACTORY_PASSWORD = "pw-Secret-123"  # what tests.factories.make_user sets


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: install Debian's chromium to run the browser tests")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("the playwright Python package is not installed")
    playwright = sync_playwright().start()
    try:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
    except Exception:
        playwright.stop()
        raise
    yield browser
    browser.close()
    playwright.stop()


@pytest.fixture
def new_page(browser):
    """A factory of pages, each in its own fresh context (its own session cookie)."""
    contexts = []

    def make():
        context = browser.new_context(viewport=DESKTOP, locale="zh-CN")
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page):
    return new_page()


def authenticator_code(device) -> str:
    """The code the person's authenticator app shows now. The device forgets the last code
    it accepted (a test signs the same person in twice within one 30-second step), and any
    throttling, so that this code passes."""
    from django_otp.oath import TOTP
    from django_otp.plugins.otp_totp.models import TOTPDevice

    TOTPDevice.objects.filter(pk=device.pk).update(last_t=-1, throttling_failure_count=0)
    device.refresh_from_db()
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():06d}"


def _authenticator_for(username: str):
    """A confirmed TOTP device for somebody who signs in with a second factor (their role
    requires it, or they turned it on), created if missing; None for everybody else."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from destreg.accounts.models import User
    from destreg.accounts.permissions import second_factor_required
    from tests.conftest import confirmed_authenticator

    user = User.objects.filter(username=username).first()
    if user is None:
        return None
    if second_factor_required(user) or TOTPDevice.objects.filter(user=user).exists():
        return confirmed_authenticator(user)
    return None


def login(page, live_server, username: str, password: str = FACTORY_PASSWORD) -> None:
    """Sign in through /login/ and, for staff with a second factor, through the code page
    with a real TOTP code; wait until the app has redirected away from both."""
    device = _authenticator_for(username)
    page.goto(f"{live_server.url}/login/")
    form = page.locator("main form[method=post]")
    form.locator("input[name=username]").fill(username)
    form.locator("input[name=password]").fill(password)
    with page.expect_navigation():
        form.locator("button[type=submit]").click()
    assert "/login/" not in page.url, f"sign-in as {username!r} failed; still on {page.url}"
    if device is not None:
        assert "/second-factor/" in page.url, f"{username!r} was not asked for a code"
        form = page.locator("main form[method=post]")
        form.locator("input[name=code]").fill(authenticator_code(device))
        with page.expect_navigation():
            form.locator("button[type=submit]").click()
        assert "/second-factor/" not in page.url, f"the code of {username!r} was refused"


def logout(page) -> None:
    """Sign out through the navbar's POST form (the page must be at desktop width)."""
    with page.expect_navigation():
        page.locator('form[action$="/logout/"] button').click()


# WCAG 2.1 A and AA rules. The Django admin's breadcrumbs (its own stylesheet, links told
# apart by colour alone) are left out: they are Django's, not ours.
AXE_OPTIONS = {"runOnly": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}
AXE_CONTEXT = {"exclude": [[".breadcrumbs"]]}


def assert_accessible(page, where: str) -> None:
    from axe_playwright_python.sync_playwright import Axe

    violations = Axe().run(page, context=AXE_CONTEXT, options=AXE_OPTIONS).response["violations"]
    found = [
        f"{v['id']}: {[(n['target'], n.get('failureSummary', '')[:160]) for n in v['nodes'][:3]]}"
        for v in violations
    ]
    assert not found, f"axe-core on {page.url} ({where}): {found}"


@pytest.fixture
def shoot(request):
    """shoot(page, step, phone=False): full-page screenshot(s) of the current page, each
    also checked with axe-core against WCAG 2.1 A and AA: a violation fails the test."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    test_name = re.sub(r"[^\w-]+", "_", request.node.name)

    def take(page, step: str, *, phone: bool = False) -> None:
        page.set_viewport_size(DESKTOP)
        page.screenshot(path=SCREENSHOTS / f"{test_name}-{step}.png", full_page=True)
        assert_accessible(page, f"{step} at {DESKTOP['width']} px")
        if phone:
            page.set_viewport_size(PHONE)
            page.screenshot(path=SCREENSHOTS / f"{test_name}-{step}-phone.png", full_page=True)
            assert_accessible(page, f"{step} at {PHONE['width']} px")
            page.set_viewport_size(DESKTOP)

    return take
