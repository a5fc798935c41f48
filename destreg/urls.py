from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("destreg.accounts.urls")),
    path("students/", include("students.urls")),
    path("employers/", include("employers.urls")),
    path("reviews/", include("reviews.urls")),
    path("agreements/", include("agreements.urls")),
    path("notifications/", include("destreg.audit.urls")),
]
