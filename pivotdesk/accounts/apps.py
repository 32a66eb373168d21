from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "pivotdesk.accounts"
    label = "accounts"
    verbose_name = "Accounts"
