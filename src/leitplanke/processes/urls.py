"""The process editor under Settings → Processes (views.py)."""

from django.urls import path

from . import views

app_name = "processes"

urlpatterns = [
    path("", views.index, name="index"),
    path("import/", views.import_definition, name="import"),
    path("<slug:key>/compare/", views.compare, name="compare"),
    path("<slug:key>/validate/", views.validate, name="validate"),
    path("<slug:key>/<int:version>/", views.version_page, name="version"),
    path("<slug:key>/<int:version>/publish/", views.publish, name="publish"),
    path("<slug:key>/<int:version>/new-draft/", views.new_draft, name="new_draft"),
    path("<slug:key>/<int:version>/delete/", views.delete_draft, name="delete"),
    path("<slug:key>/<int:version>/export.json", views.export, name="export"),
    path("<slug:key>/<int:version>/try/", views.try_step, name="try"),
    path("<slug:key>/<int:version>/steps/<slug:transition>/", views.step_edit, name="step"),
]
