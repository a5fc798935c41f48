from django.urls import path

from students import views

app_name = "students"
urlpatterns = [
    path("signup/", views.signup, name="signup"),
    path("", views.home, name="home"),
    path("confirm/send-code/", views.send_code, name="send_code"),
    path("confirm/", views.confirm, name="confirm"),
    path("account/", views.account, name="account"),
    path("requests/import/", views.import_request, name="import_request"),
    path("requests/update/", views.update_request, name="update_request"),
    path("requests/<int:pk>/", views.request_detail, name="request_detail"),
    path("not-my-will/<str:token>/", views.not_my_will, name="not_my_will"),
]
