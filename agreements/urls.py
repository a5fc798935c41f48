from django.urls import path

from agreements import views
from agreements.batches import views as batch_views
from agreements.online import views as online_views
from agreements.registrations import change_views
from agreements.registrations import views as registration_views
from agreements.scansign import views as scansign_views
from agreements.webhooks import urls as webhook_urls

app_name = "agreements"
urlpatterns = [
    path("invitations/", online_views.invitations, name="invitations"),
    path("invitations/<int:pk>/", online_views.invitation, name="invitation"),
    path("invitations/<int:pk>/answer/", online_views.invitation_answer, name="invitation_answer"),
    path("mine/", online_views.mine, name="mine"),
    # 批量邀请: agreements/batches/
    path("batches/", batch_views.batches, name="batches"),
    path("batches/new/", batch_views.batch_new, name="batch_new"),
    path("batches/template.csv", batch_views.batch_template, name="batch_template"),
    path("batches/<int:pk>/", batch_views.batch, name="batch"),
    path("batches/<int:pk>/send/", batch_views.batch_send, name="batch_send"),
    path("batches/<int:pk>/result/", batch_views.batch_result, name="batch_result"),
    path("<int:pk>/", online_views.agreement, name="agreement"),
    path("<int:pk>/terminate/", online_views.terminate, name="terminate"),
    path(
        "terminations/<int:pk>/answer/", online_views.termination_answer, name="termination_answer"
    ),
    path(
        "terminations/<int:pk>/document/",
        online_views.termination_document,
        name="termination_document",
    ),
    path("<int:pk>/download/", views.download, name="download"),
    path("verify/<str:token>/", views.verify, name="verify"),
    path("register/", registration_views.register, name="register"),
    path("register/<str:path>/new/", registration_views.registration_new, name="registration_new"),
    path("registrations/<int:pk>/", registration_views.registration_detail, name="registration"),
    path(
        "registrations/<int:pk>/edit/",
        registration_views.registration_edit,
        name="registration_edit",
    ),
    path(
        "registrations/<int:pk>/discard/",
        registration_views.registration_discard,
        name="registration_discard",
    ),
    path(
        "registrations/<int:pk>/scan/",
        registration_views.registration_scan,
        name="registration_scan",
    ),
    path(
        "registrations/<int:pk>/return-link/",
        registration_views.registration_return_link,
        name="registration_return_link",
    ),
    path(
        "registrations/<int:pk>/pdf/", registration_views.registration_pdf, name="registration_pdf"
    ),
    path(
        "registrations/<int:pk>/files/<str:which>/",
        registration_views.registration_file,
        name="registration_file",
    ),
    path(
        "registrations/<int:pk>/withdraw/",
        registration_views.registration_withdraw,
        name="registration_withdraw",
    ),
    # 申请解约 (二, 三) and 作废申请 (四): agreements/registrations/change_views.py
    path(
        "registrations/<int:pk>/terminate/",
        change_views.registration_terminate,
        name="registration_terminate",
    ),
    path("registrations/<int:pk>/void/", change_views.registration_void, name="registration_void"),
    path(
        "changes/<int:pk>/answer/",
        change_views.registration_change_answer,
        name="registration_change_answer",
    ),
    path("changes/<int:pk>/withdraw/", change_views.change_withdraw, name="change_withdraw"),
    path("changes/<int:pk>/document/", change_views.change_document, name="change_document"),
    path("unit/", change_views.unit_registrations, name="unit_registrations"),
    path("terminate/", change_views.termination_link_request, name="termination_link_request"),
    path("terminate/<str:token>/", change_views.termination_link, name="termination_link"),
    path("units/", registration_views.unit_search, name="unit_search"),
    path("return/<str:token>/", registration_views.return_page, name="return"),
    # 扫码签约 with a unit that has no account: agreements/scansign/
    path("unit-requests/new/", scansign_views.unit_request_new, name="unit_request_new"),
    path("unit-requests/<int:pk>/", scansign_views.unit_request, name="unit_request"),
    path("unit-requests/<int:pk>/qr.svg", scansign_views.unit_request_qr, name="unit_request_qr"),
    path(
        "unit-requests/<int:pk>/cancel/",
        scansign_views.unit_request_cancel,
        name="unit_request_cancel",
    ),
    path(
        "unit-requests/<int:pk>/resend/",
        scansign_views.unit_request_resend,
        name="unit_request_resend",
    ),
    path("unit-sign/<str:token>/", scansign_views.unit_sign, name="unit_sign"),
    path("sent/", online_views.sent, name="sent"),
    path("invite/", online_views.invite, name="invite"),
    path("templates/", online_views.term_templates, name="term_templates"),
    path("templates/new/", online_views.term_template_edit, name="term_template_new"),
    path("templates/<int:pk>/", online_views.term_template_edit, name="term_template_edit"),
    path(
        "templates/<int:pk>/delete/",
        online_views.term_template_delete,
        name="term_template_delete",
    ),
]
urlpatterns += webhook_urls.urlpatterns  # agreements/webhooks/: the units' HR webhooks
