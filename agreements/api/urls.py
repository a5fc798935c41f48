from django.urls import path
from drf_spectacular.views import SpectacularAPIView
from rest_framework.permissions import AllowAny

from agreements.api import docs, views

app_name = "api"
urlpatterns = [
    path(
        "schema/",
        SpectacularAPIView.as_view(
            authentication_classes=[], permission_classes=[AllowAny], throttle_classes=[]
        ),
        name="schema",
    ),
    path("docs/", docs.docs, name="docs"),
    path("v1/invitations/", views.InvitationList.as_view(), name="invitations"),
    path("v1/invitations/batch/", views.InvitationBatch.as_view(), name="invitation_batch"),
    path("v1/invitations/<int:pk>/", views.InvitationDetail.as_view(), name="invitation"),
    path("v1/agreements/", views.AgreementList.as_view(), name="agreements"),
    path("v1/agreements/<int:pk>/", views.AgreementDetail.as_view(), name="agreement"),
    path("v1/agreements/<int:pk>/pdf/", views.AgreementPdf.as_view(), name="agreement_pdf"),
    path(
        "v1/agreements/<int:pk>/verification/",
        views.AgreementVerification.as_view(),
        name="agreement_verification",
    ),
]
