from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "leitplanke.cases"
    label = "cases"
    verbose_name = "Cases"
