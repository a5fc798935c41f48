from django.conf import settings
from django.contrib.auth import views as auth_views
from django.shortcuts import redirect, render
from django.utils.decorators import method_decorator
from django.views.decorators.debug import sensitive_post_parameters

from destreg.accounts.models import Role
from destreg.accounts.throttling import client_is_blocked

# Where each role starts after signing in.
HOME_BY_ROLE = {
    Role.STUDENT: "students:home",
    Role.EMPLOYER: "employers:home",
    Role.COLLEGE_REVIEWER: "reviews:queue",
    Role.SCHOOL_REVIEWER: "reviews:queue",
    Role.PLATFORM_ADMIN: "admin:index",
    Role.PROVINCE_STAFF: "reviews:oversight",
    Role.MINISTRY_STAFF: "reviews:oversight",
}


def home(request):
    if not request.user.is_authenticated:
        return redirect("login")
    return redirect(HOME_BY_ROLE[request.user.role])


@method_decorator(sensitive_post_parameters("password"), name="dispatch")
class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    redirect_authenticated_user = True

    def post(self, request, *args, **kwargs):
        if client_is_blocked(request):
            context = {"cooloff_minutes": round(settings.AXES_COOLOFF_TIME * 60), "spraying": True}
            return render(request, "accounts/locked_out.html", context, status=429)
        return super().post(request, *args, **kwargs)
