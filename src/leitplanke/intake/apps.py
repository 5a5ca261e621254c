from django.apps import AppConfig


class IntakeConfig(AppConfig):
    name = "leitplanke.intake"
    label = "intake"
    verbose_name = "Intake"

    def ready(self) -> None:
        from leitplanke.core import events, refcache, storedfiles
        from leitplanke.processes import selectors as process_selectors

        from . import tasks  # noqa: F401  (registers the periodic mail fetch)
        from .models import InboundEmail, WebhookEndpoint
        from .process_effects import on_event as on_process_effects
        from .process_effects import template_choices, webhook_choices
        from .webhooks import on_event

        process_selectors.register_editor_choices("templates", template_choices)
        process_selectors.register_editor_choices("webhooks", webhook_choices)
        events.subscribe(on_event)
        events.subscribe(on_process_effects)
        refcache.watch([WebhookEndpoint])
        storedfiles.owned_files("mail/raw/", InboundEmail, "raw")
