from django.urls import path

from students import sso_views

app_name = "sso"

urlpatterns = [
    path("callback/", sso_views.CallbackView.as_view(), name="callback"),
    path("<str:code>/login/", sso_views.LoginView.as_view(), name="login"),
]
