"""The public maturity check, mounted at /check/."""

from django.urls import path

from . import public_views

app_name = "check"

urlpatterns = [
    path("", public_views.intro, name="intro"),
    path("invitation/<str:invitation>/", public_views.invitation, name="invitation"),
    path("r/<str:token>/", public_views.resume, name="resume"),
    path("r/<str:token>/page/<int:number>/", public_views.step, name="step"),
    path("r/<str:token>/review/", public_views.review, name="review"),
    path("r/<str:token>/result/", public_views.result, name="result"),
    path("r/<str:token>/contact/", public_views.contact, name="contact"),
    path("r/<str:token>/report.pdf", public_views.report, name="pdf"),
]
