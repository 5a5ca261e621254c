"""/decisions/: "My authority" and the approvals inbox."""

from django.urls import path

from . import approval_views, authority_views

app_name = "approvals"

urlpatterns = [
    path("my-authority/", authority_views.my_authority, name="my_authority"),
    path("approvals/", approval_views.inbox, name="inbox"),
    path("approvals/badge/", approval_views.badge, name="badge"),
    path("approvals/<int:approval_id>/decide/", approval_views.decide, name="decide"),
]
