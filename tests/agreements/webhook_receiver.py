"""A real HTTP receiver on 127.0.0.1, the HR system's side of a webhook: it records each
request and checks its signature with the secret it was given, the way docs/webhooks.md
tells a receiver to."""

import contextlib
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from agreements.webhooks.signing import verify


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    signature_ok: bool


@dataclass
class Receiver:
    url: str = ""
    secret: str = ""
    # The answers to give, in order; once used up, 200.
    answers: list[int] = field(default_factory=list)
    delay: float = 0.0
    requests: list[Received] = field(default_factory=list)


@contextmanager
def receiver(**options) -> Iterator[Receiver]:
    state = Receiver(**options)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            ok = verify(
                state.secret,
                self.headers.get("X-Destreg-Timestamp", ""),
                body,
                self.headers.get("X-Destreg-Signature", ""),
            )
            state.requests.append(Received(dict(self.headers.items()), body, ok))
            if state.delay:
                time.sleep(state.delay)
            code = state.answers.pop(0) if state.answers else 200
            self.send_response(code)
            if 300 <= code < 400:
                self.send_header("Location", "http://127.0.0.1:9/internal")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):  # quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


def _self_signed_context(tmp: Path) -> ssl.SSLContext:
    """A server's TLS context with a throwaway certificate for 127.0.0.1."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=1))
        .not_valid_after(now + timedelta(hours=1))
        .sign(key, hashes.SHA256())
    )
    (tmp / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (tmp / "key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tmp / "cert.pem", tmp / "key.pem")
    return context


@contextmanager
def dribbler(answer: bytes, every: float = 0.15, tls_in: Path | None = None) -> Iterator[int]:
    """A receiver on 127.0.0.1 that takes the request, then sends ``answer`` one byte every
    ``every`` seconds: each read gets a byte well within its timeout, the answer never ends in
    time. Over TLS (a self-signed certificate written into ``tls_in``) when given a folder.
    Yields the port."""
    context = _self_signed_context(tls_in) if tls_in is not None else None
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(5)  # accept() gives up if no try comes
    stop = threading.Event()

    def dribble():
        with contextlib.suppress(OSError), server.accept()[0] as raw:
            raw.settimeout(1)
            conn = context.wrap_socket(raw, server_side=True) if context else raw
            conn.recv(65536)
            for byte in answer:
                if stop.wait(every):
                    return
                conn.sendall(bytes([byte]))

    thread = threading.Thread(target=dribble, daemon=True)
    thread.start()
    try:
        yield server.getsockname()[1]
    finally:
        stop.set()
        server.close()
        thread.join(timeout=5)
