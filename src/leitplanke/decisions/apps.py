from django.apps import AppConfig


class DecisionsConfig(AppConfig):
    name = "leitplanke.decisions"
    label = "decisions"
    verbose_name = "Decisions"
