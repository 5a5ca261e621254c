from django.urls import path

from . import public_views

app_name = "public"

urlpatterns = [
    path("", public_views.complaint_form, name="form"),
    path("thanks/<str:token>/", public_views.complaint_thanks, name="thanks"),
    path("status/<str:token>/", public_views.status_page, name="status"),
    path("confirm/<str:token>/", public_views.contact_confirm, name="confirm"),
    path("privacy/", public_views.privacy, name="privacy"),
]
