"""The maturity check inside the app, mounted at /maturity/."""

from django.urls import path

from . import views

app_name = "maturity"

urlpatterns = [
    path("", views.index, name="index"),
    path("checks/new/", views.check_start, name="check_start"),
    path("checks/<int:assessment_id>/", views.check_result, name="check"),
    path("checks/<int:assessment_id>/page/<int:number>/", views.check_step, name="check_step"),
    path("checks/<int:assessment_id>/review/", views.check_review, name="check_review"),
    path("checks/<int:assessment_id>/report.pdf", views.check_pdf, name="check_pdf"),
    path("campaigns/", views.campaign_list, name="campaigns"),
    path("campaigns/new/", views.campaign_create, name="campaign_create"),
    path("campaigns/<int:campaign_id>/", views.campaign_detail, name="campaign"),
    path("campaigns/<int:campaign_id>/edit/", views.campaign_edit, name="campaign_edit"),
    path("campaigns/<int:campaign_id>/close/", views.campaign_close, name="campaign_close"),
    path("campaigns/<int:campaign_id>/renew-links/", views.campaign_renew_links, name="campaign_renew_links"),
    path("campaigns/<int:campaign_id>/report.pdf", views.campaign_pdf, name="campaign_pdf"),
    path("roadmaps/", views.roadmap_list, name="roadmaps"),
    path("roadmaps/new/", views.roadmap_create, name="roadmap_create"),
    path("roadmaps/<int:roadmap_id>/", views.roadmap_detail, name="roadmap"),
    path("roadmaps/<int:roadmap_id>/items/new/", views.roadmap_item_create, name="roadmap_item_create"),
    path("roadmaps/<int:roadmap_id>/items/<int:item_id>/", views.roadmap_item_edit, name="roadmap_item_edit"),
    path("roadmaps/<int:roadmap_id>/items/<int:item_id>/delete/", views.roadmap_item_delete, name="roadmap_item_delete"),
    path("roadmaps/<int:roadmap_id>/roadmap.csv", views.roadmap_csv, name="roadmap_csv"),
    path("roadmaps/<int:roadmap_id>/roadmap.pdf", views.roadmap_pdf, name="roadmap_pdf"),
]
