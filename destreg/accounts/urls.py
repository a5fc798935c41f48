from django.contrib.auth import views as auth_views
from django.urls import path

from destreg.accounts import second_factor, views

RESET = "accounts/password_reset"

urlpatterns = [
    path(
        "password/reset/",
        auth_views.PasswordResetView.as_view(
            template_name=f"{RESET}_form.html",
            email_template_name=f"{RESET}_email.txt",
            subject_template_name=f"{RESET}_subject.txt",
        ),
        name="password_reset",
    ),
    path(
        "password/reset/sent/",
        auth_views.PasswordResetDoneView.as_view(template_name=f"{RESET}_done.html"),
        name="password_reset_done",
    ),
    path(
        "password/reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(template_name=f"{RESET}_confirm.html"),
        name="password_reset_confirm",
    ),
    path(
        "password/reset/done/",
        auth_views.PasswordResetCompleteView.as_view(template_name=f"{RESET}_complete.html"),
        name="password_reset_complete",
    ),
    path("", views.home, name="home"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("second-factor/", second_factor.verify, name="second_factor"),
    path("account/security/", second_factor.security, name="account_security"),
    path("account/security/enrol/", second_factor.enrol, name="second_factor_enrol"),
    path(
        "account/security/recovery-codes/",
        second_factor.recovery_codes,
        name="second_factor_recovery_codes",
    ),
    path(
        "password/",
        auth_views.PasswordChangeView.as_view(template_name="accounts/password_change.html"),
        name="password_change",
    ),
    path(
        "password/done/",
        auth_views.PasswordChangeDoneView.as_view(
            template_name="accounts/password_change_done.html"
        ),
        name="password_change_done",
    ),
]
