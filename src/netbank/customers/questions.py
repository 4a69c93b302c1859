"""The fixed list of 追加認証 questions a customer may choose from.

Stored on SecretQuestion as the Japanese text (the msgid), translated on display.
The leaflet shows the first two; the others follow the same pattern: a fact the
customer remembers and that is not printed on any card or statement.
"""

from __future__ import annotations

from django.utils.translation import gettext_noop

SECRET_QUESTIONS: tuple[str, ...] = (
    gettext_noop("中学校の時の部活動は何ですか？"),
    gettext_noop("初めて見た映画のタイトルは何ですか？"),
    gettext_noop("子供の頃のあだ名は何ですか？"),
    gettext_noop("初めて飼ったペットの名前は何ですか？"),
    gettext_noop("小学校の時の担任の先生の名字は何ですか？"),
    gettext_noop("子供の頃に住んでいた町の名前は何ですか？"),
    gettext_noop("初めて旅行した場所はどこですか？"),
    gettext_noop("学生時代に最も好きだった教科は何ですか？"),
)
MAX_QUESTIONS = 3
