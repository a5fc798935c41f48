"""The public verification page checks at most 10 files a minute per client address."""

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from agreements.verification import UPLOAD_CHECKS_PER_MINUTE, UploadVerdict
from destreg.lib.clients import client_ip
from tests import factories as f


def _check(client, url, address="203.0.113.7"):
    upload = SimpleUploadedFile("a.pdf", f.pdf_bytes(), content_type="application/pdf")
    return client.post(url, {"file": upload}, REMOTE_ADDR=address)


def test_the_eleventh_check_in_a_minute_is_refused_with_a_clear_message(client, signed):
    url = reverse("agreements:verify", args=[signed.verify_token])
    for _ in range(UPLOAD_CHECKS_PER_MINUTE):
        page = _check(client, url)
        assert page.status_code == 200
        assert page.context["result"] is UploadVerdict.TAMPERED
    refused = _check(client, url)
    assert refused.status_code == 429
    assert refused["Retry-After"] == "60"
    assert refused.context["result"] is None
    assert "您所在网络在过去一分钟内核验的文件过多" in refused.content.decode()
    # the page itself still shows the agreement's state
    assert signed.number in client.get(url, REMOTE_ADDR="203.0.113.7").content.decode()


def test_the_limit_is_per_client_address(client, signed):
    url = reverse("agreements:verify", args=[signed.verify_token])
    for _ in range(UPLOAD_CHECKS_PER_MINUTE + 1):
        _check(client, url, address="203.0.113.7")
    assert _check(client, url, address="198.51.100.2").status_code == 200


def test_looking_at_the_page_is_not_counted(client, signed):
    url = reverse("agreements:verify", args=[signed.verify_token])
    for _ in range(UPLOAD_CHECKS_PER_MINUTE * 2):
        assert client.get(url, REMOTE_ADDR="203.0.113.7").status_code == 200
    assert _check(client, url).status_code == 200


def test_the_client_address_is_the_peer_for_now(rf):
    assert client_ip(rf.get("/", REMOTE_ADDR="192.0.2.1")) == "192.0.2.1"
