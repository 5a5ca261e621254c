from django.urls import include, path

from leitplanke.api.api import api
from leitplanke.core import views as core_views

urlpatterns = [
    path("healthz", core_views.healthz, name="healthz"),
    path("readyz", core_views.readyz, name="readyz"),
    path("api/v1/", api.urls),
    path("accounts/", include("leitplanke.accounts.urls")),
    path("settings/catalog/", include("leitplanke.cases.catalog_urls")),
    path("settings/deadlines/", include("leitplanke.deadlines.urls")),
    path("settings/maturity/", include("leitplanke.maturity.admin_urls")),
    path("settings/processes/", include("leitplanke.processes.urls")),
    path("settings/decisions/", include("leitplanke.decisions.urls")),
    path("settings/authority/", include("leitplanke.decisions.authority_urls")),
    path("settings/", include("leitplanke.accounts.admin_urls")),
    path("cases/", include("leitplanke.cases.list_urls")),
    path("cases/", include("leitplanke.cases.urls")),
    path("cases/", include("leitplanke.decisions.record_urls")),
    path("customers/", include("leitplanke.customers.urls")),
    path("decisions/", include("leitplanke.decisions.analytics_urls")),
    path("decisions/", include("leitplanke.decisions.approval_urls")),
    path("complaint/", include("leitplanke.intake.public_urls")),
    path("public/<slug:brand>/", include("leitplanke.intake.brand_public_urls")),
    path("intake/", include("leitplanke.intake.urls")),
    path("check/", include("leitplanke.maturity.public_urls")),
    path("maturity/", include("leitplanke.maturity.urls")),
    path("", include("leitplanke.core.urls")),
]

handler400 = "leitplanke.core.views.bad_request"
handler403 = "leitplanke.core.views.permission_denied"
handler404 = "leitplanke.core.views.page_not_found"
handler500 = "leitplanke.core.views.server_error"
