from django.urls import path

from destreg.reference import views

app_name = "reference"

urlpatterns = [
    path("regions.json", views.regions_json, name="regions"),
]
