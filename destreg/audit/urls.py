from django.urls import path

from destreg.audit import views

app_name = "audit"
urlpatterns = [path("", views.notifications, name="notifications")]
