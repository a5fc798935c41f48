from django.urls import path

from agreements import views

app_name = "agreements"
urlpatterns = [
    path("invitations/", views.invitations, name="invitations"),
    path("invitations/<int:pk>/", views.invitation, name="invitation"),
    path("invitations/<int:pk>/answer/", views.invitation_answer, name="invitation_answer"),
    path("mine/", views.mine, name="mine"),
    path("<int:pk>/", views.agreement, name="agreement"),
    path("<int:pk>/terminate/", views.terminate, name="terminate"),
    path("terminations/<int:pk>/answer/", views.termination_answer, name="termination_answer"),
    path(
        "terminations/<int:pk>/document/",
        views.termination_document,
        name="termination_document",
    ),
    path("<int:pk>/download/", views.download, name="download"),
    path("verify/<str:token>/", views.verify, name="verify"),
    path("sent/", views.sent, name="sent"),
    path("invite/", views.invite, name="invite"),
]
