"""Run the stand-in school provider: ``python -m tests.oidc_provider.serve DIR``.

Binds a free 127.0.0.1 port, migrates a fresh SQLite database in DIR, creates the test
users and clients, prints ``READY <port>`` and serves until terminated. The RSA signing
key comes from the environment (OIDC_PROVIDER_KEY, PEM).
"""

import os
import sys
from pathlib import Path
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

# What the tests sign in with at the provider: username = 学号.
PASSWORD = "provider-pw-1"
STUDENT_NUMBERS = ["2021001", "2021002", "2099999"]
# The client destreg is registered as, and another client of the same provider.
CLIENT_ID, CLIENT_SECRET = "destreg", "destreg-secret"
OTHER_CLIENT_ID, OTHER_CLIENT_SECRET = "other-app", "other-secret"
REDIRECT_URIS = "http://testserver/sso/callback/ http://localhost/sso/callback/"
OTHER_REDIRECT_URI = "http://127.0.0.1/other/callback/"


class QuietHandler(WSGIRequestHandler):
    def log_message(self, format, *args):
        pass


def seed() -> None:
    from django.contrib.auth import get_user_model
    from oauth2_provider.models import Application

    for number in STUDENT_NUMBERS:
        get_user_model().objects.create_user(number, password=PASSWORD, first_name="测试")
    for client_id, secret, uris in [
        (CLIENT_ID, CLIENT_SECRET, REDIRECT_URIS),
        (OTHER_CLIENT_ID, OTHER_CLIENT_SECRET, OTHER_REDIRECT_URI),
    ]:
        Application.objects.create(
            name=client_id,
            client_id=client_id,
            client_secret=secret,
            client_type=Application.CLIENT_CONFIDENTIAL,
            authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
            redirect_uris=uris,
            algorithm=Application.RS256_ALGORITHM,
            skip_authorization=True,
        )


def main(directory: str) -> None:
    server = make_server("127.0.0.1", 0, lambda e, s: [], WSGIServer, QuietHandler)
    port = server.server_port
    os.environ["OIDC_PROVIDER_DB"] = str(Path(directory) / "provider.sqlite3")
    os.environ["OIDC_PROVIDER_ISSUER"] = f"http://127.0.0.1:{port}/o"
    os.environ["DJANGO_SETTINGS_MODULE"] = "tests.oidc_provider.settings"
    import django
    from django.core.management import call_command
    from django.core.wsgi import get_wsgi_application

    django.setup()
    call_command("migrate", verbosity=0, interactive=False)
    seed()
    server.set_app(get_wsgi_application())
    print(f"READY {port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main(sys.argv[1])
