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
