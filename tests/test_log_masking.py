"""No full 身份证号 in any log line: Django's request lines and gunicorn's access log.

Each server runs in its own process, as in production, and is asked for a URL carrying an ID
number (a reviewer searching by it); the test then searches the server's output for it.
"""

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from destreg.lib.pii import mask_id_number

ROOT = Path(__file__).resolve().parents[1]
ID_NUMBER = "110101200301010012"
BIN = Path(sys.executable).parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _serve_and_ask(command: list[str], port: int, tmp_path) -> str:
    env = {**os.environ, "DESTREG_VAR_DIR": str(tmp_path), "DEBUG": "false"}
    env.pop("DATABASE_URL", None)  # /healthz touches no database
    server = subprocess.Popen(  # noqa: S603 (our own servers, fixed arguments)
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                url = f"http://127.0.0.1:{port}/healthz?q={ID_NUMBER}"
                # The first request imports every view (WeasyPrint, pyHanko): give it time.
                with urllib.request.urlopen(url, timeout=20) as response:
                    assert response.status == 200
                break
            except (urllib.error.URLError, ConnectionError):
                if time.monotonic() > deadline or server.poll() is not None:
                    raise
                time.sleep(0.2)
        # A sync worker (and runserver's request thread) logs a request after answering it;
        # a second request, answered, comes after that line.
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10) as response:
            assert response.status == 200
        time.sleep(0.2)
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=15)
    return output


@pytest.mark.parametrize("server", ["gunicorn", "runserver"])
def test_a_searched_id_number_is_masked_in_the_server_log(server, tmp_path):
    port = _free_port()
    if server == "gunicorn":
        command = [
            str(BIN / "gunicorn"), "-c", "destreg/gunicorn.conf.py", "destreg.wsgi",
            "--bind", f"127.0.0.1:{port}", "--workers", "1", "--access-logfile", "-",
        ]  # fmt: skip
    else:
        command = [
            sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}",
            "--noreload", "--skip-checks",
        ]  # fmt: skip
    output = _serve_and_ask(command, port, tmp_path)
    assert "/healthz?q=" in output  # the request line was logged ...
    assert ID_NUMBER not in output  # ... without the ID number in clear
    assert mask_id_number(ID_NUMBER) in output
