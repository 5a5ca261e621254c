from django.apps import AppConfig


class IntakeConfig(AppConfig):
    name = "leitplanke.intake"
    label = "intake"
    verbose_name = "Intake"
