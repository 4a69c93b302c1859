"""Every audit event and data key the code records has words for people."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.utils import translation

from netbank.audit.labels import DATA_LABELS, EVENT_LABELS, data_items, event_label
from tests.audit.recorded_events import scan


@pytest.fixture(autouse=True)
def _japanese() -> Iterator[None]:
    """The words are read in Japanese here, whatever an earlier test left active."""
    with translation.override("ja"):
        yield


def test_every_recorded_event_has_a_label() -> None:
    found = scan()
    assert found.unresolved == [], "events named in a way the check cannot follow"
    # The scan finds what is known to be recorded through helpers, too.
    assert {"otp.accepted", "banking.transfer.completed", "passkey.refused"} <= found.events
    assert sorted(found.events - EVENT_LABELS.keys()) == []


def test_every_data_key_named_in_a_record_call_has_a_label() -> None:
    assert sorted(scan().data_keys - DATA_LABELS.keys()) == []


def test_an_unknown_event_reads_as_words_not_as_its_code() -> None:
    assert event_label("login.failed") == "ログイン失敗（ログインIDまたはパスワードの誤り）"
    assert event_label("some.future_event") == "その他の記録"


def test_data_reads_as_words_and_none_is_left_out() -> None:
    items = data_items(
        {"channel": "web", "subject": None, "permanent": True, "items": ["name_birthdate"]}
    )
    assert [(i.label, i.value) for i in items] == [
        ("方法", "ブラウザ"),
        ("ヘルプデスクでの解除が必要", "はい"),
        ("確認できた項目", "氏名・生年月日"),
    ]
    # A coded value without words stays out of the words (its code is in the detail).
    assert data_items({"reason": "some_new_code"}) == []
    # The operator's own words are shown as they are.
    assert [i.value for i in data_items({"reason": "お客さまからの電話"})] == ["お客さまからの電話"]


def test_every_coded_reason_the_code_records_has_words() -> None:
    from netbank.audit.labels import VALUE_LABELS

    codes = scan().reason_codes
    assert {"lost_phone", "suspended", "sign_count"} <= codes
    assert sorted(codes - VALUE_LABELS.keys()) == []


def test_a_value_reads_as_its_key_means_it() -> None:
    assert [i.value for i in data_items({"channel": "branch"})] == ["窓口"]
    assert [i.value for i in data_items({"method": "branch"})] == ["窓口での本人確認書類"]
