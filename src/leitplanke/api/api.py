"""The REST API under /api/v1/ (django-ninja): OpenAPI at /api/v1/openapi.json,
interactive documentation at /api/v1/docs."""

from __future__ import annotations

from typing import Any

from ninja import NinjaAPI

from leitplanke import __version__

from . import problems
from .auth import auth
from .openapi import document_errors
from .query_input import refuse_repeated_parameters
from .routers import approvals, customers, inbound, processes, system
from .routers.case_decisions import router as case_decisions_router
from .routers.cases import router as cases_router
from .routers.catalog import router as catalog_router
from .routers.deadlines import router as deadlines_router
from .routers.decisions import router as decisions_router
from .text_input import TextCheckingParser, refuse_unstorable_input


class LeitplankeAPI(NinjaAPI):
    def get_openapi_schema(self, *, path_prefix: str | None = None, path_params: dict[str, Any] | None = None) -> Any:
        """Ninja's document with every error response described as a problem document."""
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        document_errors(schema)
        return schema


api = LeitplankeAPI(
    title="Leitplanke API",
    version="1",
    description=(
        "Complaint and case management. Authenticate with a personal API token "
        "(`Authorization: Bearer lpk_…`, created under Profile → API tokens) with the scopes "
        "read, write or admin. Errors are problem details (RFC 9457) with a stable `code`; "
        "their texts are in the language of `Accept-Language` (German or English). "
        "Operations that list the `Idempotency-Key` header among their parameters (creating a case, "
        "taking a lifecycle step, adding a note) act at most once per key: a repeat gets the first "
        "response again."
    ),
    auth=auth,
    urls_namespace="api",
    openapi_extra={"info": {"x-leitplanke-version": __version__}},
    parser=TextCheckingParser(),
)
problems.install(api)
api.add_decorator(refuse_unstorable_input(api), mode="view")
api.add_decorator(refuse_repeated_parameters(api), mode="view")
api.add_router("", system.router)
api.add_router("", inbound.router)
api.add_router("", cases_router)
api.add_router("", case_decisions_router)
api.add_router("", catalog_router)
api.add_router("", customers.router)
api.add_router("", deadlines_router)
api.add_router("", processes.router)
api.add_router("", decisions_router)
api.add_router("", approvals.router)
