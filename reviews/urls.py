from django.urls import path

from reviews import (
    annual_views,
    flag_views,
    oversight_views,
    registry_views,
    report_views,
    snapshot_views,
    verification_views,
    views,
)

app_name = "reviews"
urlpatterns = [
    path("", views.queue, name="queue"),
    path("bulk/", views.bulk, name="bulk"),
    path("statistics/", views.statistics, name="statistics"),
    path("oversight/", oversight_views.home, name="oversight"),
    path("oversight/provinces/<str:code>/", oversight_views.province, name="oversight_province"),
    path("oversight/schools/<int:pk>/", oversight_views.school, name="oversight_school"),
    path("oversight/colleges/<int:pk>/", oversight_views.college, name="oversight_college"),
    path("exports/", views.export_start, name="export_start"),
    path("reporting-dates/", snapshot_views.reporting_dates_page, name="reporting_dates"),
    path("snapshots/<int:pk>/changes/", snapshot_views.snapshot_changes, name="snapshot_changes"),
    path(
        "snapshots/<int:pk>/changes.csv",
        snapshot_views.snapshot_changes_csv,
        name="snapshot_changes_csv",
    ),
    path("exports/<int:pk>/", views.export, name="export"),
    path("annual-reports/", annual_views.annual_reports, name="annual_reports"),
    path("annual-reports/<int:pk>/", annual_views.annual_report, name="annual_report"),
    path("terminations/<int:pk>/", views.termination, name="termination"),
    path("registry/<int:pk>/", views.registry_request_detail, name="registry_request"),
    path("registry/<int:pk>/decide/", views.registry_request_decide, name="registry_decide"),
    path("registry/import/", registry_views.registry_import, name="registry_import"),
    path(
        "registry/import/<int:pk>/", registry_views.registry_import_job, name="registry_import_job"
    ),
    path("registry/held/", registry_views.held_changes, name="held_changes"),
    path("registry/held/<int:pk>/", registry_views.held_change_decide, name="held_change_decide"),
    path("verification/reports/", report_views.reports, name="reports"),
    path("verification/reports/<int:pk>/handle/", report_views.report_handle, name="report_handle"),
    path("employers/", views.employers, name="employers"),
    # 就业核查: samples, their graduates and checks, and 我的核查任务.
    path("verification/samples/", verification_views.samples, name="verification_samples"),
    path(
        "verification/samples/<int:pk>/",
        verification_views.sample,
        name="verification_sample",
    ),
    path("verification/items/<int:pk>/", verification_views.item, name="verification_item"),
    path("verification/tasks/", verification_views.tasks, name="verification_tasks"),
    path("verification/", flag_views.page, name="verification"),
    path(
        "verification/graduates/",
        flag_views.graduates,
        name="verification_graduates",
    ),
    path("verification/explain/", flag_views.explain, name="verification_explain"),
    path("records/", registry_views.records, name="records"),
    path("records/<int:pk>/", registry_views.record, name="record"),
    path(
        "records/<int:pk>/activation-code/",
        registry_views.record_activation,
        name="record_activation",
    ),
    path("records/<int:pk>/unbind/", registry_views.record_unbind, name="record_unbind"),
    path("registrations/<int:pk>/", views.registration, name="registration"),
    path("registrations/<int:pk>/decide/", views.registration_decide, name="registration_decide"),
    path("agreements/<int:pk>/", views.agreement, name="agreement"),
    path("agreements/<int:pk>/decide/", views.agreement_decide, name="agreement_decide"),
    path(
        "registry/import/template.xlsx",
        registry_views.registry_import_template,
        name="registry_import_template",
    ),
]
