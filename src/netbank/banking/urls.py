from django.urls import path

from netbank.banking import api
from netbank.banking.views import accounts, settings, transfer

app_name = "banking"

urlpatterns = [
    path("banking/balance/", accounts.balance_view, name="balance"),
    path("banking/accounts/<int:account_id>/statement/", accounts.statement_view, name="statement"),
    path(
        "banking/accounts/<int:account_id>/statement.csv",
        accounts.statement_csv_view,
        name="statement_csv",
    ),
    path("banking/furikae/", transfer.furikae_view, name="furikae"),
    path("banking/furikomi/", transfer.furikomi_view, name="furikomi"),
    path("banking/furikomi/input/", transfer.furikomi_input_view, name="furikomi_input"),
    path("banking/transfer/confirm/", transfer.transfer_confirm_view, name="transfer_confirm"),
    path(
        "banking/transfers/<int:transfer_id>/",
        transfer.transfer_done_view,
        name="transfer_done",
    ),
    path("banking/scheduled/", transfer.scheduled_view, name="scheduled"),
    path(
        "banking/scheduled/<int:transfer_id>/cancel/",
        transfer.scheduled_cancel_view,
        name="scheduled_cancel",
    ),
    path("banking/payees/", settings.payees_view, name="payees"),
    path("banking/payees/add/", settings.payee_add_view, name="payee_add"),
    path("banking/payees/confirm/", settings.payee_confirm_view, name="payee_confirm"),
    path("banking/payees/<int:payee_id>/done/", settings.payee_done_view, name="payee_done"),
    path(
        "banking/payees/<int:payee_id>/delete/",
        settings.payee_delete_view,
        name="payee_delete",
    ),
    path("banking/limit/", settings.limit_edit_view, name="limit"),
    path("banking/limit/confirm/", settings.limit_confirm_view, name="limit_confirm"),
    # The token app's authenticated fetch of the pending 取引認証 question (JSON).
    path("banking/api/v1/signing/pending", api.signing_pending_view, name="api_signing_pending"),
]
