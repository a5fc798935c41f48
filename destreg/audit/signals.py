"""What the door announces, for code that must follow every recorded change.

``recorded`` is sent by ``destreg.audit.changes`` after each audit row is written, inside the
service's transaction, with ``item`` (the changed row), ``event`` (its new AuditEvent) and
``before`` (its status before, "" for a creation). A receiver that must change rows in the
same transaction (counters kept in step) does so directly; one that talks to the outside world
(webhooks) defers with ``transaction.on_commit`` so a rolled-back change sends nothing.
"""

from django.dispatch import Signal

recorded = Signal()
