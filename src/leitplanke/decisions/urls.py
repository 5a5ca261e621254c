"""The decision table editor under Settings → Decision tables (table_views.py)."""

from django.urls import path

from . import table_views as views

app_name = "decisions"

urlpatterns = [
    path("", views.index, name="index"),
    path("new/", views.table_new, name="new"),
    path("import/", views.import_table, name="import"),
    path("<slug:table_key>/", views.table_page, name="table"),
    path("<slug:table_key>/compare/", views.compare, name="compare"),
    path("<slug:table_key>/<int:table_version>/", views.version_page, name="version"),
    path("<slug:table_key>/<int:table_version>/check/", views.live_check, name="check"),
    path("<slug:table_key>/<int:table_version>/try/", views.try_table, name="try"),
    path("<slug:table_key>/<int:table_version>/publish/", views.publish, name="publish"),
    path("<slug:table_key>/<int:table_version>/retire/", views.retire, name="retire"),
    path("<slug:table_key>/<int:table_version>/new-version/", views.new_version, name="new_version"),
    path("<slug:table_key>/<int:table_version>/delete/", views.delete_draft, name="delete"),
    path("<slug:table_key>/<int:table_version>/export.json", views.export_jdm, name="export"),
    path("<slug:table_key>/<int:table_version>/tests.json", views.export_tests, name="export_tests"),
]
