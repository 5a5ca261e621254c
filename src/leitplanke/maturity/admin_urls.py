"""Settings › maturity check recommendations and contact requests (mounted under /settings/maturity/)."""

from django.urls import path

from . import admin_views

app_name = "maturity_settings"

urlpatterns = [
    path("recommendations/", admin_views.recommendation_list, name="recommendations"),
    path("recommendations/new/", admin_views.recommendation_create, name="recommendation_create"),
    path("recommendations/<int:recommendation_id>/", admin_views.recommendation_edit, name="recommendation_edit"),
    path("contacts/", admin_views.contact_list, name="contacts"),
    path("contacts/<int:assessment_id>/erase/", admin_views.contact_erase, name="contact_erase"),
]
