"""Settings › case types, custom fields and categories (mounted under /settings/catalog/)."""

from django.urls import path

from . import catalog_views

app_name = "catalog"

urlpatterns = [
    path("case-types/", catalog_views.case_type_list, name="case_types"),
    path("case-types/new/", catalog_views.case_type_create, name="case_type_create"),
    path("case-types/<int:case_type_id>/", catalog_views.case_type_edit, name="case_type_edit"),
    path("case-types/<int:case_type_id>/fields/new/", catalog_views.custom_field_create, name="custom_field_create"),
    path("case-types/<int:case_type_id>/fields/<int:field_id>/", catalog_views.custom_field_edit, name="custom_field_edit"),
    path("categories/", catalog_views.category_list, name="categories"),
    path("categories/new/", catalog_views.category_create, name="category_create"),
    path("categories/<int:category_id>/", catalog_views.category_edit, name="category_edit"),
]
