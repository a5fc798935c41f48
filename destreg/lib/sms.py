"""Text messages (SMS), with backends chosen like ``EMAIL_BACKEND``.

``settings.SMS_BACKEND`` names a class with ``send_messages(messages)``:

- ``destreg.lib.sms.ConsoleBackend`` (the embedded default) prints each message;
- ``destreg.lib.sms.LocmemBackend`` keeps them in ``destreg.lib.sms.outbox`` for tests,
  like ``django.core.mail.outbox``;
- a provider's gateway is a subclass of ``BaseSmsBackend`` in a deployment's own module.
"""

import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TextIO

from django.conf import settings
from django.utils.module_loading import import_string


@dataclass(frozen=True)
class SmsMessage:
    to: str  # a mainland mobile number, 11 digits
    body: str


class BaseSmsBackend:
    """Send text messages. Subclasses implement ``send_messages``."""

    def send_messages(self, messages: Sequence[SmsMessage]) -> int:
        """Send ``messages``; return how many were sent. May raise on a gateway failure."""
        raise NotImplementedError


class ConsoleBackend(BaseSmsBackend):
    """Print each message (development: the code shows in the server's console)."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stdout

    def send_messages(self, messages: Sequence[SmsMessage]) -> int:
        for message in messages:
            self.stream.write(f"SMS to {message.to}: {message.body}\n")
        self.stream.flush()
        return len(messages)


# What LocmemBackend sent; tests empty it before each test.
outbox: list[SmsMessage] = []


class LocmemBackend(BaseSmsBackend):
    """Keep messages in ``outbox`` (tests)."""

    def send_messages(self, messages: Sequence[SmsMessage]) -> int:
        outbox.extend(messages)
        return len(messages)


def get_backend() -> BaseSmsBackend:
    return import_string(settings.SMS_BACKEND)()


def send_sms(to: str, body: str) -> int:
    return get_backend().send_messages([SmsMessage(to=to, body=body)])
