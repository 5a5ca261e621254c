"""Case pages: detail, create, edit, timeline actions (views.py)."""

from django.urls import path

app_name = "cases"

urlpatterns: list = []
