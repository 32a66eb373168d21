from django.apps import AppConfig


class CustomersConfig(AppConfig):
    name = "pivotdesk.customers"
    label = "customers"
    verbose_name = "Customers"
