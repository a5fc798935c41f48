from django.urls import path

from employers import views

app_name = "employers"
urlpatterns = [
    path("", views.home, name="home"),
    path("register/", views.register, name="register"),
    path("documents/", views.upload_evidence, name="upload_evidence"),
    path("details/", views.details, name="details"),
    path("colleagues/", views.colleagues, name="colleagues"),
    path("colleagues/<int:pk>/role/", views.colleague_role, name="colleague_role"),
    path("colleagues/<int:pk>/remove/", views.colleague_remove, name="colleague_remove"),
    path(
        "colleagues/invitations/<int:pk>/revoke/",
        views.colleague_invitation_revoke,
        name="colleague_invitation_revoke",
    ),
    path("api-tokens/", views.api_token_list, name="api_tokens"),
    path("api-tokens/<int:pk>/revoke/", views.api_token_revoke, name="api_token_revoke"),
    path("join/<str:token>/", views.join, name="join"),
    path("<int:pk>/documents/<str:which>/", views.document, name="document"),
    path(
        "verifications/<int:pk>/documents/<str:which>/",
        views.verification_document,
        name="verification_document",
    ),
]
