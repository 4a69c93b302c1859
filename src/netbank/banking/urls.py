from django.urls import path

from netbank.banking import api, views, views_settings, views_transfer

app_name = "banking"

urlpatterns = [
    path("banking/balance/", views.balance_view, name="balance"),
    path("banking/accounts/<int:account_id>/statement/", views.statement_view, name="statement"),
    path(
        "banking/accounts/<int:account_id>/statement.csv",
        views.statement_csv_view,
        name="statement_csv",
    ),
    path("banking/furikae/", views_transfer.furikae_view, name="furikae"),
    path("banking/furikomi/", views_transfer.furikomi_view, name="furikomi"),
    path("banking/furikomi/input/", views_transfer.furikomi_input_view, name="furikomi_input"),
    path(
        "banking/transfer/confirm/", views_transfer.transfer_confirm_view, name="transfer_confirm"
    ),
    path(
        "banking/transfers/<int:transfer_id>/",
        views_transfer.transfer_done_view,
        name="transfer_done",
    ),
    path("banking/scheduled/", views_transfer.scheduled_view, name="scheduled"),
    path(
        "banking/scheduled/<int:transfer_id>/cancel/",
        views_transfer.scheduled_cancel_view,
        name="scheduled_cancel",
    ),
    path("banking/payees/", views_settings.payees_view, name="payees"),
    path("banking/payees/add/", views_settings.payee_add_view, name="payee_add"),
    path("banking/payees/confirm/", views_settings.payee_confirm_view, name="payee_confirm"),
    path(
        "banking/payees/<int:payee_id>/delete/",
        views_settings.payee_delete_view,
        name="payee_delete",
    ),
    path("banking/limit/", views_settings.limit_edit_view, name="limit"),
    path("banking/limit/confirm/", views_settings.limit_confirm_view, name="limit_confirm"),
    # The token app's authenticated fetch of the pending 取引認証 question (JSON).
    path("banking/api/v1/signing/pending", api.signing_pending_view, name="api_signing_pending"),
]
