"""reviews.decisions: one entry per kind of queue item, read by every decide path."""

import pytest

from destreg.audit.models import ReviewTask
from reviews import decisions
from reviews.forms import DecisionForm
from reviews.queue import DETAIL_URL


def test_every_kind_of_queue_item_has_a_decision_entry_and_a_page():
    assert set(decisions.BY_KIND) == set(ReviewTask.Kind.values)
    assert set(DETAIL_URL) == set(ReviewTask.Kind.values)


def test_only_registrations_can_be_returned():
    assert decisions.REGISTRATION.service(DecisionForm.RETURN)
    for reviewed in (decisions.AGREEMENT, decisions.TERMINATION, decisions.REGISTRY_REQUEST):
        with pytest.raises(ValueError):
            reviewed.service(DecisionForm.RETURN)
