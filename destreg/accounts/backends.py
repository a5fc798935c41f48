from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend

from destreg.lib.cache import forget, remember
from destreg.reference import cache as references

# Every signed-in page loads its user; most of them within seconds of the last one.
USER_CACHE_SECONDS = 60


def user_cache_key(user_id) -> str:
    return f"accounts:user:{user_id}"


class UserAndProfileBackend(ModelBackend):
    """Django's ModelBackend; loading the signed-in user also loads their student profile in
    the same query (for staff and employers the join finds none), since every graduate's
    page needs it. The pair is kept in the cache for a minute, and marked forgotten whenever
    either is saved or deleted (``forget_user``), the way Zulip caches its user profiles."""

    def get_user(self, user_id):
        user = remember(
            user_cache_key(user_id), lambda: self.read_user(user_id), USER_CACHE_SECONDS
        )
        if user is None:
            return None
        references.attach_one(user)  # a reviewer's school and college
        return user if self.user_can_authenticate(user) else None

    @staticmethod
    def read_user(user_id):
        users = get_user_model()._default_manager.select_related("student")
        return users.filter(pk=user_id).first()


def forget_user(user_id) -> None:
    """The signed-in user ``user_id`` (or their student profile) changed: read it afresh.
    Called on every save and delete (destreg/invalidation.py)."""
    forget(user_cache_key(user_id))
