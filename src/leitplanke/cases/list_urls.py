"""Case list, search, saved views, bulk actions and export (list_views.py)."""

from django.urls import path

app_name = "case_list"

urlpatterns: list = []
