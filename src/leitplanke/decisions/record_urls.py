"""The case page's decision panel: /cases/<id>/decisions/… (record_views.py)."""

from django.urls import path

from . import record_views

app_name = "case_decisions"

urlpatterns = [
    path("<int:case_id>/decisions/", record_views.decision_panel, name="panel"),
    path("<int:case_id>/decisions/new/", record_views.decision_create, name="create"),
    path("<int:case_id>/decisions/<int:record_id>/reversal/", record_views.decision_reverse, name="reverse"),
    path("<int:case_id>/decisions/<int:record_id>/correction/", record_views.decision_correct, name="correct"),
]
