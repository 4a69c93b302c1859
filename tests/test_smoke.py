import pytest
from django.test import Client

from netbank.customers.services import customer_create


@pytest.mark.django_db
def test_customer_logs_in_and_sees_top_menu() -> None:
    customer_create(
        login_id="yamada01",
        name_kanji="山田 太郎",
        name_kana="ヤマダ タロウ",
        email="t@example.jp",
        password="pass1234",
        transaction_password="9876",
    )
    c = Client()
    assert c.get("/").status_code == 200
    r = c.post("/", {"login_id": "yamada01", "password": "pass1234"}, follow=True)
    assert "山田 太郎" in r.content.decode()
