"""Case list, search, saved views, bulk actions and export (list_views.py)."""

from django.urls import path

from . import list_views

app_name = "case_list"

urlpatterns: list = [
    path("", list_views.case_list, name="list"),
    path("bulk/", list_views.case_bulk, name="bulk"),
    path("views/", list_views.saved_view_create, name="saved_view_create"),
    path("views/<int:view_id>/delete/", list_views.saved_view_delete, name="saved_view_delete"),
    path("export.csv", list_views.export_csv, name="export_csv"),
    path("export.xlsx", list_views.export_xlsx, name="export_xlsx"),
]
