from django.apps import AppConfig


class OtpConfig(AppConfig):
    """Soft tokens: issue, activation, 利用開始, verification, and the app-facing API."""

    name = "netbank.otp"
    label = "otp"

    def ready(self) -> None:
        # otp's part of every 緊急利用停止, whoever asks for it (the customer or the
        # helpdesk): the token in use is suspended, pending issues and unused
        # Direct-login URLs voided. customers imports no other app, so it is told here.
        from netbank.customers.suspension import suspension_step_register
        from netbank.otp.tokens.suspension import direct_login_void, tokens_suspend

        suspension_step_register(tokens_suspend)
        suspension_step_register(direct_login_void)
