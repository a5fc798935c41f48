"""destreg.lib.db.refused_on_clash: a unique clash becomes the caller's refusal."""

import pytest
from django.core.exceptions import ValidationError

from destreg.accounts.models import User
from destreg.lib.db import refused_on_clash
from tests import factories as f


@pytest.mark.django_db
def test_a_clash_raises_the_refusal_and_the_outer_transaction_goes_on():
    f.make_user(username="taken")
    refusal = ValidationError("taken meanwhile")
    with pytest.raises(ValidationError) as raised, refused_on_clash(refusal):
        User.objects.create(username="taken")
    assert raised.value is refusal
    assert raised.value.__cause__ is None and raised.value.__suppress_context__
    assert User.objects.filter(username="taken").count() == 1  # still usable


@pytest.mark.django_db
def test_without_a_clash_the_block_is_written():
    with refused_on_clash(ValidationError("unused")):
        User.objects.create(username="free")
    assert User.objects.filter(username="free").exists()


@pytest.mark.django_db
def test_other_errors_pass_through():
    with pytest.raises(ZeroDivisionError), refused_on_clash(ValidationError("unused")):
        1 / 0  # noqa: B018
