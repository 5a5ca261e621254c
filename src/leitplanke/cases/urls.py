"""Case pages: detail, create, edit, timeline actions (views.py)."""

from django.urls import path

from . import escalation_views, views

app_name = "cases"

urlpatterns = [
    path("new/", views.case_create, name="create"),
    path("new/customers/", views.customer_lookup, name="customer_lookup"),
    path("<int:case_id>/", views.case_detail, name="detail"),
    path("<int:case_id>/edit/", views.case_edit, name="edit"),
    path("<int:case_id>/timeline/", views.case_timeline, name="timeline"),
    path("<int:case_id>/transition/", views.case_transition, name="transition"),
    path("<int:case_id>/escalate/", escalation_views.case_escalate, name="escalate"),
    path("<int:case_id>/clocks/<int:clock_id>/extend/", views.case_clock_extend, name="clock_extend"),
    path("<int:case_id>/steps/<slug:transition>/", views.case_step, name="step"),
    path("<int:case_id>/notes/", views.case_note_add, name="note_add"),
    path("<int:case_id>/attachments/", views.case_attachment_add, name="attachment_add"),
    path("<int:case_id>/attachments/<int:attachment_id>/", views.attachment_download, name="attachment_download"),
    path("<int:case_id>/watch/", views.case_watch, name="watch"),
    path("<int:case_id>/assign/", views.case_assign, name="assign"),
]
