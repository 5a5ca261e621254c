"""A brand's public pages, mounted at /public/<brand>/ (the status page is shared)."""

from django.urls import path

from . import public_views

app_name = "brand"

urlpatterns = [
    path("", public_views.brand_form, name="form"),
    path("thanks/<str:token>/", public_views.brand_thanks, name="thanks"),
    path("embed/", public_views.brand_form_embed, name="embed"),
    path("embed/thanks/<str:token>/", public_views.brand_thanks_embed, name="embed_thanks"),
    path("logo/", public_views.brand_logo, name="logo"),
    path("brand.css", public_views.brand_css, name="css"),
]
