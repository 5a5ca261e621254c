from django.urls import path

from . import views

app_name = "customers"

urlpatterns: list = [
    path("", views.customer_list, name="list"),
    path("new/", views.customer_create, name="create"),
    path("products/", views.product_list, name="products"),
    path("products/<int:product_id>/edit/", views.product_edit, name="product_edit"),
    path("<int:customer_id>/", views.customer_detail, name="detail"),
    path("<int:customer_id>/edit/", views.customer_edit, name="edit"),
    path("<int:customer_id>/merge/", views.customer_merge, name="merge"),
    path("<int:customer_id>/consents/", views.consent_create, name="consent_create"),
    path("<int:customer_id>/contracts/", views.contract_create, name="contract_create"),
    path("<int:customer_id>/contracts/<int:contract_id>/end/", views.contract_end, name="contract_end"),
    path("<int:customer_id>/vulnerability/", views.vulnerability_reason, name="vulnerability_reason"),
]
