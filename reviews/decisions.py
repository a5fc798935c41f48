"""One dispatch for review decisions, keyed by the queue item's kind.

Each reviewable model says once how it is loaded for a reviewer, which page shows it and
which service approves, rejects or returns it. The queue's bulk approval, every decide view
and the queue's links read this table, so a new kind of item is one entry here.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db.models import Model
from django.urls import reverse

from agreements.models import Agreement, Registration, Termination
from agreements.online import services as agreement_services
from agreements.online.permissions import get_agreement_for
from agreements.registrations import changes as change_services
from agreements.registrations import services as registration_services
from agreements.registrations.permissions import get_change_for, get_registration_for
from destreg.accounts.models import User
from destreg.audit.models import ReviewTask
from reviews.forms import DecisionForm
from students import services as student_services
from students.models import RegistryRequest
from students.permissions import get_registry_request_for

# (item, reviewer, comment, expected_state): the comment is the reason of a refusal.
Decide = Callable[[Any, User, str, str | None], object]


@dataclass(frozen=True)
class Reviewed:
    model: type[Model]
    load: Callable[[User, int], Any]  # get_<model>_for: 404 for strangers, 403 for others
    detail: str  # URL name of the page the reviewer decides on (args: the item's pk)
    approve: Decide
    reject: Decide
    send_back: Decide | None = None  # 退回修改, where the item can be returned

    def detail_url(self, item: Model) -> str:
        return reverse(self.detail, args=[item.pk])

    def service(self, decision: str) -> Decide:
        chosen = {
            DecisionForm.APPROVE: self.approve,
            DecisionForm.REJECT: self.reject,
            DecisionForm.RETURN: self.send_back,
        }.get(decision)
        if chosen is None:
            raise ValueError(f"{self.model.__name__} has no decision {decision!r}")
        return chosen


def _registration(decision: str) -> Decide:
    def decide(item: Registration, reviewer: User, comment: str, expected: str | None):
        return registration_services.registration_review(
            registration=item,
            reviewer=reviewer,
            decision=decision,
            comment=comment,
            expected_state=expected,
        )

    return decide


REGISTRY_REQUEST = Reviewed(
    model=RegistryRequest,
    load=get_registry_request_for,
    detail="reviews:registry_request",
    approve=lambda item, reviewer, comment, expected: student_services.registry_request_approve(
        request=item, reviewer=reviewer, comment=comment, expected_state=expected
    ),
    reject=lambda item, reviewer, comment, expected: student_services.registry_request_reject(
        request=item, reviewer=reviewer, reason=comment, expected_state=expected
    ),
)
AGREEMENT = Reviewed(
    model=Agreement,
    load=get_agreement_for,
    detail="reviews:agreement",
    approve=lambda item, reviewer, comment, expected: agreement_services.agreement_approve(
        agreement=item, reviewer=reviewer, comment=comment, expected_state=expected
    ),
    reject=lambda item, reviewer, comment, expected: agreement_services.agreement_fail(
        agreement=item, reviewer=reviewer, reason=comment, expected_state=expected
    ),
)
# 申请解约 of any agreement and 作废申请 of an other destination: one lifecycle, one entry.
TERMINATION = Reviewed(
    model=Termination,
    load=get_change_for,
    detail="reviews:termination",  # reviewed on its agreement's or registration's page
    approve=lambda item, reviewer, comment, expected: change_services.change_approve(
        termination=item, reviewer=reviewer, comment=comment, expected_state=expected
    ),
    reject=lambda item, reviewer, comment, expected: change_services.change_reject(
        termination=item, reviewer=reviewer, reason=comment, expected_state=expected
    ),
)
REGISTRATION = Reviewed(
    model=Registration,
    load=get_registration_for,
    detail="reviews:registration",
    approve=_registration(DecisionForm.APPROVE),
    reject=_registration(DecisionForm.REJECT),
    send_back=_registration(DecisionForm.RETURN),
)

Kind = ReviewTask.Kind
BY_KIND: dict[str, Reviewed] = {
    Kind.REGISTRY_IMPORT: REGISTRY_REQUEST,
    Kind.REGISTRY_UPDATE: REGISTRY_REQUEST,
    Kind.ONLINE: AGREEMENT,
    Kind.TERMINATION: TERMINATION,
    Kind.VOID_REQUEST: TERMINATION,
    Kind.OFFLINE: REGISTRATION,
    Kind.OFFLINE_SCAN: REGISTRATION,
    Kind.PAPER: REGISTRATION,
    Kind.OTHER: REGISTRATION,
}
BY_MODEL: dict[type[Model], Reviewed] = {reviewed.model: reviewed for reviewed in BY_KIND.values()}


def decide(
    item: Model, *, reviewer: User, decision: str, comment: str = "", expected_state: str | None
) -> None:
    """Run the service that takes ``decision`` (a DecisionForm choice) on ``item``."""
    BY_MODEL[type(item)].service(decision)(item, reviewer, comment, expected_state)


def decide_task(
    task: ReviewTask, reviewer: User, *, decision: str, comment: str = "", expected_state: str
) -> None:
    """Take ``decision`` on the item behind a queue row (one transaction), provided it is
    still in the state the row was rendered with. Raises the model's DoesNotExist when the
    item is gone, ValueError when its kind has no such decision."""
    reviewed = BY_KIND[task.kind]
    item = reviewed.model._default_manager.get(pk=task.object_id)
    reviewed.service(decision)(item, reviewer, comment, expected_state)
