"""Administration screens in the app's own UI (Settings)."""

from django.urls import path

from . import admin_views

app_name = "settings"

urlpatterns = [
    path("", admin_views.index, name="index"),
]
