"""Settings › Authority limits (administrators)."""

from django.urls import path

from . import authority_views

app_name = "authority_settings"

urlpatterns = [
    path("", authority_views.limit_list, name="list"),
    path("new/", authority_views.limit_create, name="create"),
    path("<int:limit_id>/", authority_views.limit_edit, name="edit"),
    path("<int:limit_id>/delete/", authority_views.limit_delete, name="delete"),
]
