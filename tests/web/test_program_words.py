"""The program-words check itself: what it finds and what it leaves alone."""

from __future__ import annotations

from tests.web.program_words import page_program_words, program_words


def test_it_finds_codes_python_values_and_english() -> None:
    found = program_words("確認できた項目: name_birthdate, recent_activity")
    assert {"name_birthdate", "recent_activity"} <= set(found)
    assert {"login.failed", "helpdesk"} <= set(program_words("イベントlogin.failed（helpdesk）"))
    assert {"None", "channel", "web"} <= set(program_words("channel=web, subject=None"))
    assert program_words("状態True") == ["True"]
    assert program_words("ログインに失敗しました (unlock)") == ["unlock"]


def test_it_leaves_the_banks_own_words_data_and_literals_alone() -> None:
    text = "ログインID、OTP、Directログイン、CSV、English、taro@example.jp、画面ID: SLI012"
    assert program_words(text) == []
    assert program_words("ユーザー名 sato_01 さん", data=["sato_01"]) == []


def test_it_reads_what_people_see_not_titles_or_code_details() -> None:
    html = (
        '<p title="login.failed">ログイン失敗</p>'
        '<details class="audit-codes"><summary>記録コード</summary>'
        "<code>login.failed</code></details>"
        "<script>var login_state = true;</script>"
    )
    assert page_program_words(html) == []
    assert "login.failed" in page_program_words("<td>login.failed</td>")
    assert "user_name" in page_program_words('<input placeholder="user_name">')
