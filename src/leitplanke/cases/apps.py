from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "leitplanke.cases"
    label = "cases"
    verbose_name = "Cases"

    def ready(self) -> None:
        from leitplanke.core import refcache, storedfiles

        from . import tasks  # noqa: F401  (registers the deadline escalation job)
        from .models import Attachment, CaseType, CustomFieldDefinition

        refcache.watch([CaseType, CustomFieldDefinition])
        from .process import register

        register()
        storedfiles.owned_files("attachments/", Attachment, "file")

        from leitplanke.customers.services import customer_changed

        customer_changed.connect(_refresh_customer_cases, dispatch_uid="cases-search-customer")


def _refresh_customer_cases(sender: object, *, customer_ids: list[int], **kwargs: object) -> None:
    from .services import case_search_customer_refresh

    case_search_customer_refresh(customer_ids=customer_ids)
