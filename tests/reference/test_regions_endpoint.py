"""The region tree behind the region picker: content, caching headers, revalidation."""

import gzip
import json

from django.urls import reverse

from destreg.reference.models import Region
from destreg.reference.regions import region_tree

URL = reverse("reference:regions")
A_YEAR = 365 * 24 * 3600


def test_it_lists_every_region_with_its_name_and_parent(client, reference_data):
    response = client.get(URL)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    rows = {code: (name, parent) for code, name, parent in response.json()["regions"]}
    assert len(rows) == Region.objects.count() > 3000
    assert rows["440000"] == ("广东省", None)
    assert rows["440300"] == ("深圳市", "440000")
    assert rows["440305"] == ("南山区", "440300")
    assert rows["110100"] == ("市辖区", "110000")


def test_anyone_may_read_it_but_only_with_get_or_head(client, reference_data):
    assert client.get(URL).status_code == 200  # employers register before signing in
    assert client.head(URL).status_code == 200
    assert client.post(URL).status_code == 405


def test_the_versioned_address_is_cached_for_a_year(client, reference_data):
    version = region_tree().version
    response = client.get(URL, {"v": version})
    assert response["ETag"] == f'"{version}"'
    cache_control = {part.strip() for part in response["Cache-Control"].split(",")}
    assert cache_control == {"public", f"max-age={A_YEAR}", "immutable"}


def test_without_the_current_version_the_browser_revalidates(client, reference_data):
    version = region_tree().version
    for params in ({}, {"v": "an-older-version"}):
        response = client.get(URL, params)
        assert response.status_code == 200
        assert response["ETag"] == f'"{version}"'
        assert "no-cache" in response["Cache-Control"]
        assert "immutable" not in response["Cache-Control"]


def test_a_matching_etag_is_answered_with_304_and_no_body(client, reference_data):
    version = region_tree().version
    response = client.get(URL, {"v": version}, headers={"if-none-match": f'"{version}"'})
    assert response.status_code == 304
    assert response.content == b""
    assert response["ETag"] == f'"{version}"'
    assert "immutable" in response["Cache-Control"]
    stale = client.get(URL, headers={"if-none-match": '"something-else"'})
    assert stale.status_code == 200


def test_it_is_compressed_for_browsers_that_accept_gzip(client, reference_data):
    plain = client.get(URL).content
    response = client.get(URL, headers={"accept-encoding": "gzip"})
    assert response["Content-Encoding"] == "gzip"
    assert gzip.decompress(response.content) == plain
    assert len(response.content) < 60_000 < len(plain)
    # Revalidating the compressed copy works too (its ETag is marked weak).
    again = client.get(URL, headers={"accept-encoding": "gzip", "if-none-match": response["ETag"]})
    assert again.status_code == 304


def test_a_renamed_region_changes_the_version(client, reference_data):
    before = region_tree().version
    region = Region.objects.get(code="440305")
    region.name = "南山新区"
    region.save()  # destreg/invalidation.py forgets this process's copy
    after = region_tree()
    assert after.version != before
    assert ["440305", "南山新区", "440300"] in json.loads(after.body)["regions"]
