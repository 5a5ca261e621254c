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
    path("<slug:key>/<int:version>/steps/<slug:transition>/delete/", views.transition_delete, name="step_delete"),
    path("<slug:key>/<int:version>/new-step/", views.transition_new, name="step_new"),
    path("<slug:key>/<int:version>/new-state/", views.state_edit, name="state_new"),
    path("<slug:key>/<int:version>/states/<slug:state>/", views.state_edit, name="state"),
    path("<slug:key>/<int:version>/states/<slug:state>/delete/", views.state_delete, name="state_delete"),
    path("<slug:key>/<int:version>/initial/", views.initial_set, name="initial"),
    path("<slug:key>/<int:version>/escalation/", views.escalation_edit, name="escalation"),
]
