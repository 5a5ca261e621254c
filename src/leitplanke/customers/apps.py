from django.apps import AppConfig


class CustomersConfig(AppConfig):
    name = "leitplanke.customers"
    label = "customers"
    verbose_name = "Customers"
