"""The signature a receiver checks (docs/webhooks.md): HMAC-SHA256 with the endpoint's secret
over ``f"{timestamp}.{body}"``, so neither the body nor the time can be changed or replayed
later without the receiver noticing."""

import hashlib
import hmac
import json
from typing import Any

TIMESTAMP_HEADER = "X-Destreg-Timestamp"
SIGNATURE_HEADER = "X-Destreg-Signature"
EVENT_HEADER = "X-Destreg-Event"
DELIVERY_HEADER = "X-Destreg-Delivery"


def body_of(payload: dict[str, Any]) -> bytes:
    """The JSON body as sent (UTF-8, keys sorted, no extra spaces)."""
    return json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def signature(secret: str, timestamp: int, body: bytes) -> str:
    message = str(timestamp).encode() + b"." + body
    return "sha256=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def verify(secret: str, timestamp: str, body: bytes, signature_header: str) -> bool:
    """What a receiver does (the freshness of ``timestamp`` is checked separately)."""
    try:
        expected = signature(secret, int(timestamp), body)
    except ValueError:
        return False
    return hmac.compare_digest(expected, signature_header)
