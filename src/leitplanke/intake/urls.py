"""Intake screens for staff: reply composer, templates, mailboxes, inbound log, webhooks."""

from django.urls import path

from . import views

app_name = "intake"

urlpatterns = [
    path("cases/<int:case_id>/reply/", views.reply, name="reply"),
    path("cases/<int:case_id>/public-access/", views.public_access, name="public_access"),
    path("cases/<int:case_id>/composer/", views.composer, name="composer"),
    path("templates/", views.template_list, name="templates"),
    path("templates/new/", views.template_create, name="template_create"),
    path("templates/<int:template_id>/", views.template_edit, name="template_edit"),
    path("templates/<int:template_id>/active/", views.template_active, name="template_active"),
    path("templates/<int:template_id>/versions/<int:number>/", views.template_version, name="template_version"),
    path("mailboxes/", views.mailbox_list, name="mailboxes"),
    path("mailboxes/new/", views.mailbox_create, name="mailbox_create"),
    path("mailboxes/<int:mailbox_id>/", views.mailbox_edit, name="mailbox_edit"),
    path("mailboxes/<int:mailbox_id>/fetch/", views.mailbox_fetch, name="mailbox_fetch"),
    path("quarantine/", views.quarantine_list, name="quarantine"),
    path("inbound/", views.inbound_list, name="inbound"),
    path("inbound/<int:inbound_id>/raw/", views.inbound_raw, name="inbound_raw"),
    path("inbound/<int:inbound_id>/reprocess/", views.inbound_reprocess, name="inbound_reprocess"),
    path("inbound/<int:inbound_id>/accept/", views.inbound_accept, name="inbound_accept"),
    path("webhooks/", views.webhook_list, name="webhooks"),
    path("webhooks/new/", views.webhook_create, name="webhook_create"),
    path("webhooks/<int:endpoint_id>/", views.webhook_edit, name="webhook_edit"),
    path("webhooks/<int:endpoint_id>/deliveries/<int:delivery_id>/redeliver/", views.webhook_redeliver, name="webhook_redeliver"),
]
