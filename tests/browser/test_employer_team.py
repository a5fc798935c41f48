"""An HR team after a campus recruitment round: the unit's administrator saves the terms it
offers as a template and invites a colleague, who joins through the e-mailed link and sends
an invitation that starts from the template."""

import pytest
from django.core import mail

from agreements.models import Invitation, TermTemplate
from destreg.accounts.models import User
from tests.browser.conftest import login

pytestmark = pytest.mark.browser


def test_a_colleague_joins_and_invites_from_the_units_template(
    new_page, live_server, employer_user, student, shoot
):
    admin = new_page()
    login(admin, live_server, employer_user.username)
    admin.goto(f"{live_server.url}/agreements/templates/new/")
    form = admin.locator("main form[method=post]")
    form.locator("input[name=name]").fill("2027届校招·软件工程师")
    form.locator("select[name=job_category]").select_option("13")
    form.locator("input[name=position]").fill("软件工程师")
    form.locator("input[name=work_location]").fill("北京市海淀区")
    form.locator("input[name=salary]").fill("12000")
    form.locator("select[name=hukou]").select_option("employer")
    form.locator("input[name=validity_days]").fill("14")
    with admin.expect_navigation():
        form.locator("button[type=submit]").click()
    assert admin.locator("#templates").inner_text().count("软件工程师") >= 1
    shoot(admin, "templates", phone=True)

    admin.goto(f"{live_server.url}/employers/colleagues/")
    form = admin.locator("main form[method=post]").last
    form.locator("input[name=email]").fill("li@example.com")
    form.locator("select[name=unit_role]").select_option("hr")
    with admin.expect_navigation():
        form.locator("button[type=submit]").click()
    assert "li@example.com" in admin.locator("#pending-colleagues").inner_text()
    shoot(admin, "colleagues", phone=True)

    link = next(word for word in mail.outbox[-1].body.split() if "/employers/join/" in word)
    colleague = new_page()  # a new person, not signed in
    colleague.goto(live_server.url + link[link.index("/employers/join/") :])
    form = colleague.locator("main form[method=post]")
    form.locator("input[name=display_name]").fill("李招聘")
    form.locator("input[name=username]").fill("li-hr")
    form.locator("input[name=password1]").fill("Colle4gue-2026!")
    form.locator("input[name=password2]").fill("Colle4gue-2026!")
    shoot(colleague, "join", phone=True)
    with colleague.expect_navigation():
        form.locator("button[type=submit]").click()
    assert "/employers/" in colleague.url

    colleague.goto(f"{live_server.url}/agreements/invite/")
    with colleague.expect_navigation():
        colleague.locator("#template-choice a", has_text="2027届校招").click()
    form = colleague.locator("main form[method=post]")
    assert form.locator("input[name=position]").input_value() == "软件工程师"
    form.locator("input[name=name]").fill(student.real_name)
    form.locator("input[name=id_number]").fill(student.id_number)
    with colleague.expect_navigation():
        form.locator("button[type=submit]").click()
    invitation = Invitation.objects.get()
    assert invitation.sent_by == User.objects.get(username="li-hr")
    assert (invitation.position, invitation.salary) == ("软件工程师", 12000)
    assert TermTemplate.objects.count() == 1
