"""The agreements app's models, defined in its sub-packages and collected here (Django loads
``agreements.models``; other apps import from it).

- ``agreements/terms.py``: the agreed terms both kinds of agreement carry;
- ``agreements/online/models.py``: online signing (线上签约): Invitation, Agreement,
  Termination, TermTemplate;
- ``agreements/registrations/models.py``: paths 二, 三, 四: Registration, ReturnLink,
  TerminationLink;
- ``agreements/webhooks/models.py``: units' webhook endpoints and their deliveries;
- ``agreements/scansign/models.py``: 扫码签约 with a unit not on the platform:
  UnitSigningRequest;
- ``agreements/evidence.py``: EvidenceRule, the fields and proofs each destination needs.
"""

from agreements.batches.models import InvitationBatch, InvitationBatchRow
from agreements.evidence import EvidenceRule
from agreements.online.models import (
    ACTIVE_AGREEMENT_STATES,
    Agreement,
    AgreementSequence,
    Invitation,
    Termination,
    TermTemplate,
)
from agreements.registrations.models import (
    OTHER_KINDS,
    PaperForm,
    Registration,
    ReturnLink,
    TerminationLink,
)
from agreements.scansign.models import UnitSigningRequest
from agreements.terms import Hukou, Terms, new_verify_token, signed_destination_id
from agreements.webhooks.models import WebhookDelivery, WebhookEndpoint

__all__ = [
    "ACTIVE_AGREEMENT_STATES",
    "OTHER_KINDS",
    "Agreement",
    "AgreementSequence",
    "EvidenceRule",
    "Hukou",
    "Invitation",
    "InvitationBatch",
    "InvitationBatchRow",
    "PaperForm",
    "Registration",
    "ReturnLink",
    "TermTemplate",
    "Termination",
    "TerminationLink",
    "Terms",
    "UnitSigningRequest",
    "WebhookDelivery",
    "WebhookEndpoint",
    "new_verify_token",
    "signed_destination_id",
]
