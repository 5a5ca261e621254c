from django.apps import AppConfig


class DemoConfig(AppConfig):
    """Demo data and the bulk generator (`leitplanke seed`); has no models."""

    name = "leitplanke.demo"
    label = "demo"
    verbose_name = "Demo"
