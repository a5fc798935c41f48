"""The ``oidc_provider`` fixture: the stand-in school provider running in its own process,
and helpers that sign in there the way a graduate's browser would."""

import base64
import hashlib
import os
import secrets
import select
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from students.models import SchoolSignOn
from tests.oidc_provider import serve

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT = 60  # seconds: migrating the provider's database on a busy machine


def _private_key_pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


@pytest.fixture(scope="session")
def oidc_provider(tmp_path_factory):
    """Start the provider (tests/oidc_provider/serve.py) on a free 127.0.0.1 port, wait until
    its discovery document answers, and stop it after the session."""
    directory = tmp_path_factory.mktemp("oidc_provider")
    env = {**os.environ, "OIDC_PROVIDER_KEY": _private_key_pem()}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    with open(directory / "stderr.log", "wb") as errors:
        process = subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", "tests.oidc_provider.serve", str(directory)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=errors,
            text=True,
        )
    try:
        port = _wait_for_ready_line(process, directory)
        url = f"http://127.0.0.1:{port}"
        discovery = _wait_for_discovery(f"{url}/o/.well-known/openid-configuration")
        yield SimpleNamespace(url=url, issuer=discovery["issuer"], discovery=discovery)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_for_ready_line(process, directory) -> int:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        ready, _, _ = select.select([process.stdout], [], [], 0.5)
        if ready:
            line = process.stdout.readline()
            if line.startswith("READY "):
                return int(line.split()[1])
    log = (directory / "stderr.log").read_text(errors="replace")
    raise RuntimeError(f"the OIDC provider did not start:\n{log}")


def _wait_for_discovery(url: str) -> dict:
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        try:
            response = requests.get(url, timeout=5)
            if response.status_code == 200:
                return response.json()
        except requests.ConnectionError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"the OIDC provider does not answer at {url}")
        time.sleep(0.2)


def make_sign_on(school, provider, **fields) -> SchoolSignOn:
    """The school's SSO configured from the provider's discovery document, as an admin would."""
    discovery = provider.discovery
    sign_on = SchoolSignOn(
        school=school,
        enabled=fields.pop("enabled", True),
        issuer=fields.pop("issuer", discovery["issuer"]),
        authorization_endpoint=discovery["authorization_endpoint"],
        token_endpoint=fields.pop("token_endpoint", discovery["token_endpoint"]),
        userinfo_endpoint=discovery["userinfo_endpoint"],
        jwks_endpoint=discovery["jwks_uri"],
        client_id=fields.pop("client_id", serve.CLIENT_ID),
        student_no_claim=fields.pop("student_no_claim", "student_no"),
        scopes=fields.pop("scopes", "openid profile"),
        **fields,
    )
    sign_on.client_secret = serve.CLIENT_SECRET
    sign_on.full_clean()
    sign_on.save()
    return sign_on


def through_provider(authorize_url: str, student_no: str, session=None) -> str:
    """Sign in at the provider as ``student_no`` and follow it to the client's redirect URI;
    return that URL (with the code and state)."""
    session = session or requests.Session()
    response = session.get(authorize_url, allow_redirects=False, timeout=10)
    assert response.status_code == 302, response.text[:500]
    location = urljoin(authorize_url, response.headers["Location"])
    if urlsplit(location).path == "/accounts/login/":
        assert session.get(location, timeout=10).status_code == 200
        response = session.post(
            location,
            data={
                "csrfmiddlewaretoken": session.cookies["csrftoken"],
                "username": student_no,
                "password": serve.PASSWORD,
                "next": parse_qs(urlsplit(location).query)["next"][0],
            },
            allow_redirects=False,
            timeout=10,
        )
        assert response.status_code == 302, "the provider refused the test user's password"
        authorize = urljoin(location, response.headers["Location"])
        response = session.get(authorize, allow_redirects=False, timeout=10)
        assert response.status_code == 302, response.text[:500]
        location = response.headers["Location"]
    return location


def provider_tokens(
    provider, student_no: str, *, client_id: str, secret: str, redirect_uri: str, nonce: str
) -> dict:
    """Run the code flow with the provider directly, as client ``client_id``: its tokens."""
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    query = urlencode(
        {
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": redirect_uri,
            "scope": "openid profile",
            "state": secrets.token_urlsafe(16),
            "nonce": nonce,
            "code_challenge": challenge.decode().rstrip("="),
            "code_challenge_method": "S256",
        }
    )
    authorize = provider.discovery["authorization_endpoint"]
    location = through_provider(f"{authorize}?{query}", student_no)
    code = parse_qs(urlsplit(location).query)["code"][0]
    response = requests.post(
        provider.discovery["token_endpoint"],
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "code_verifier": verifier,
        },
        auth=(client_id, secret),
        timeout=10,
    )
    assert response.status_code == 200, response.text
    return response.json()
