from django.apps import AppConfig


class BankingConfig(AppConfig):
    """Accounts, the double-entry ledger, 振込・振替, payees, limits and transaction signing."""

    name = "netbank.banking"
    label = "banking"
