from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend


class UserAndProfileBackend(ModelBackend):
    """Django's ModelBackend; loading the signed-in user also loads their student profile in
    the same query (for staff and employers the join finds none), since every graduate's
    page needs it."""

    def get_user(self, user_id):
        users = get_user_model()._default_manager.select_related("student")
        user = users.filter(pk=user_id).first()
        return user if user is not None and self.user_can_authenticate(user) else None
