from django.urls import path

from . import public_views

app_name = "public"

urlpatterns = [
    path("", public_views.complaint_form, name="form"),
    path("thanks/<str:token>/", public_views.complaint_thanks, name="thanks"),
    path("embed/", public_views.complaint_form_embed, name="embed"),
    path("embed/thanks/<str:token>/", public_views.complaint_thanks_embed, name="embed_thanks"),
    path("logo/", public_views.logo, name="logo"),
    path("status/<str:token>/", public_views.status_page, name="status"),
    path("confirm/<str:token>/", public_views.contact_confirm, name="confirm"),
    path("privacy/", public_views.privacy, name="privacy"),
]
