from django.apps import AppConfig


class BankingConfig(AppConfig):
    """Accounts, the double-entry ledger, 振込・振替, payees, limits and transaction signing."""

    name = "netbank.banking"
    label = "banking"

    def ready(self) -> None:
        # banking's part of every 緊急利用停止: scheduled transfers are cancelled. Runs
        # after otp's steps (INSTALLED_APPS order), as before.
        from netbank.banking.suspension import transfers_void_for_suspension
        from netbank.customers.suspension import suspension_step_register

        suspension_step_register(transfers_void_for_suspension)
