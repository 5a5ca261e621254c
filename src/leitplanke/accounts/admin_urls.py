"""Administration screens in the app's own UI (Settings)."""

from django.urls import path

from . import admin_views

app_name = "settings"

urlpatterns = [
    path("", admin_views.index, name="index"),
    path("organisation/", admin_views.organisation, name="organisation"),
    path("brands/", admin_views.brand_list, name="brands"),
    path("brands/new/", admin_views.brand_create, name="brand_create"),
    path("brands/<int:brand_id>/", admin_views.brand_edit, name="brand_edit"),
    path("users/", admin_views.user_list, name="users"),
    path("users/new/", admin_views.user_create, name="user_create"),
    path("users/<int:user_id>/", admin_views.user_edit, name="user_edit"),
    path("users/<int:user_id>/password-link/", admin_views.user_password_link, name="user_password_link"),
    path("users/<int:user_id>/skills/", admin_views.user_skill_add, name="user_skill_add"),
    path("users/<int:user_id>/skills/<int:skill_id>/remove/", admin_views.user_skill_remove, name="user_skill_remove"),
    path("users/<int:user_id>/absences/", admin_views.user_absence_add, name="user_absence_add"),
    path("absences/", admin_views.absence_list, name="absences"),
    path("absences/<int:absence_id>/delete/", admin_views.absence_delete, name="absence_delete"),
    path("teams/", admin_views.team_list, name="teams"),
    path("teams/new/", admin_views.team_create, name="team_create"),
    path("teams/<int:team_id>/", admin_views.team_edit, name="team_edit"),
    path("roles/", admin_views.role_list, name="roles"),
    path("roles/new/", admin_views.role_create, name="role_create"),
    path("roles/<int:role_id>/", admin_views.role_edit, name="role_edit"),
    path("skills/", admin_views.skill_list, name="skills"),
    path("tasks/", admin_views.task_list, name="tasks"),
    path("audit/", admin_views.audit_list, name="audit"),
]
