from django.contrib import admin
from django.urls import include, path

from destreg.views import healthz

handler500 = "destreg.views.server_error"

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("destreg.accounts.urls")),
    path("students/", include("students.urls")),
    path("sso/", include("students.sso_urls")),
    path("employers/", include("employers.urls")),
    path("reviews/", include("reviews.urls")),
    path("agreements/", include("agreements.urls")),
    path("api/", include("agreements.api.urls")),
    path("notifications/", include("destreg.audit.urls")),
    path("reference/", include("destreg.reference.urls")),
]
