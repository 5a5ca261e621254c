from django.urls import path

from . import analytics_views as views

app_name = "decisions_analytics"

urlpatterns = [
    path("consistency/", views.consistency, name="consistency"),
    path("consistency/records/", views.records, name="records"),
    path("simulations/", views.simulations, name="simulations"),
    path("simulations/<int:simulation_id>/", views.simulation, name="simulation"),
]
