from django.urls import reverse

URL = reverse("employers:home")


def test_the_employer_sees_their_unit(client, employer_user):
    client.force_login(employer_user)
    page = client.get(URL).content.decode()
    assert employer_user.employer.name in page
    assert employer_user.employer.uscc in page


def test_other_roles_are_refused(client, student, school_reviewer):
    assert client.get(URL).status_code == 302
    for user in (student.user, school_reviewer):
        client.force_login(user)
        assert client.get(URL).status_code == 403


def test_signup_is_for_visitors_only(client, student):
    client.force_login(student.user)
    assert client.get(reverse("students:signup")).status_code == 302
