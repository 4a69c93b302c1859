"""What people read for an audit record: the event's name and its data, in words.

The trail stores codes (``login.failed``, ``channel=web``) so that it stays stable
across releases and languages; the console shows these words instead and keeps the
codes in a detail for support. One table for every event the code records, so the
console, exports and tests name them alike. Plain strings only: the audit app knows
no domain app (docs/architecture.md).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.utils import formats, timezone
from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

EVENT_LABELS: dict[str, Promise] = {
    # Login and the customer's credentials
    "login.succeeded": _("ログイン"),
    "login.new_device": _("新しい端末からのログイン"),
    "login.password_accepted": _("ログインパスワードの確認（ログイン1段階目）"),
    "login.failed": _("ログイン失敗（ログインIDまたはパスワードの誤り）"),
    "login.refused_locked": _("ログイン拒否（ロック中）"),
    "login.refused_suspended": _("ログイン拒否（お取引停止中）"),
    "login.refused_passkey_required": _("ログイン拒否（パスキーが必要）"),
    "login.throttled": _("ログイン拒否（短時間に試行が集中）"),
    "login.recovery_used": _("パスキーを使わないログイン（ヘルプデスクの許可）を利用"),
    "lockout.failure": _("認証の失敗"),
    "lockout.locked": _("ロック"),
    "lockout.cleared": _("ロック・失敗回数の解除"),
    "transaction_password.accepted": _("確認用パスワードの確認"),
    "transaction_password.rejected": _("確認用パスワードの誤り"),
    "transaction_password.refused_locked": _("確認用パスワードの拒否（ロック中）"),
    "secret_answer.accepted": _("追加認証の回答が一致"),
    "secret_answer.rejected": _("追加認証の回答の誤り"),
    "secret_answer.refused_locked": _("追加認証の拒否（ロック中）"),
    "secret_questions.changed": _("追加認証の質問・回答の変更"),
    # The customer's registration and suspension
    "customer.created": _("お客さまの登録"),
    "customer.sessions_revoked": _("ログイン中のセッションの終了"),
    "customer.suspended": _("お取引の緊急停止"),
    "customer.suspend_repeated": _("お取引の緊急停止（停止中に再度）"),
    "customer.reactivated": _("お取引の再開"),
    # One-time passwords and tokens
    "otp.accepted": _("ワンタイムパスワードの確認"),
    "otp.rejected": _("ワンタイムパスワードの誤り"),
    "otp.locked": _("ワンタイムパスワードのロック"),
    "otp.unseal_failed": _("トークンの秘密鍵を復号できず（銀行側の障害）"),
    "otp.phone_apply_declined": _("スマートフォンでの利用申請を見送り"),
    "token.issued": _("トークンの発行"),
    "token.activated": _("トークンアプリの設定"),
    "token.in_use": _("トークンの利用開始"),
    "token.suspended": _("トークンの一時停止"),
    "token.resumed": _("トークンの利用再開"),
    "token.revoked": _("トークンの失効"),
    "token.voided": _("トークン発行の取消"),
    "token.expired": _("トークンの期限切れ（設定されず）"),
    "activation.started": _("トークンアプリの設定開始"),
    "activation.start_refused": _("トークンアプリの設定開始の拒否"),
    "activation.failed": _("トークンアプリの設定失敗"),
    "activation.replayed": _("トークンアプリの設定（同じ要求の再送）"),
    "activation.resent_failure": _("トークンアプリの設定（再送の失敗）"),
    "activation.throttled": _("トークンアプリの設定の拒否（短時間に試行が集中）"),
    "direct_login.url_issued": _("Directログイン用URLの発行"),
    "direct_login.urls_voided": _("Directログイン用URLの無効化"),
    "direct_login.opened": _("Directログイン"),
    "direct_login.open_refused": _("Directログインの拒否"),
    "direct_login.failed": _("Directログイン失敗"),
    "direct_login.start_use": _("Directログインでのトークン利用開始"),
    "channel_key.created": _("連携サービスの鍵の作成"),
    "channel_key.revoked": _("連携サービスの鍵の失効"),
    "channel.verify_refused": _("連携サービスからの確認の拒否"),
    "channel.throttled": _("連携サービスからの確認の拒否（短時間に試行が集中）"),
    # Passkeys
    "passkey.registration_options": _("パスキー登録の開始"),
    "passkey.registered": _("パスキーの登録"),
    "passkey.registration_refused": _("パスキー登録の拒否"),
    "passkey.renamed": _("パスキーの名前の変更"),
    "passkey.removed": _("パスキーの削除（お客さま）"),
    "passkey.revoked": _("パスキーの失効（ヘルプデスク）"),
    "passkey.confirm_options": _("パスキーによる確認の開始"),
    "passkey.accepted": _("パスキーの確認"),
    "passkey.refused": _("パスキーの拒否"),
    # Banking
    "banking.account.opened": _("口座の開設"),
    "banking.limit.changed": _("振込限度額の変更"),
    "banking.payee.registered": _("登録先の登録"),
    "banking.payee.deleted": _("登録先の削除"),
    "banking.signing.challenge": _("取引認証の開始"),
    "banking.signing.accepted": _("取引認証番号の確認"),
    "banking.signing.rejected": _("取引認証番号の誤り"),
    "banking.signing.locked": _("取引認証のロック"),
    "banking.signing.expired": _("取引認証の期限切れ"),
    "banking.passkey.accepted": _("パスキーによるお取引の確認"),
    "banking.passkey.rejected": _("パスキーによるお取引の確認の拒否"),
    "banking.transfer.completed": _("振込・振替の完了"),
    "banking.transfer.scheduled": _("振込予約の受付"),
    "banking.transfer.cancelled": _("振込予約の取消"),
    "banking.transfer.failed": _("振込・振替の不成立"),
    # The console
    "helpdesk.login": _("オペレーターのログイン"),
    "helpdesk.login_failed": _("オペレーターのログイン失敗"),
    "helpdesk.login_refused_locked": _("オペレーターのログイン拒否（ロック中）"),
    "helpdesk.login_throttled": _("オペレーターのログイン拒否（短時間に試行が集中）"),
    "helpdesk.logout": _("オペレーターのログアウト"),
    "helpdesk.session_idle": _("オペレーターの自動ログアウト（無操作）"),
    "helpdesk.operator_created": _("オペレーターの登録"),
    "helpdesk.operator_reenrolled": _("オペレーターのワンタイムパスワード再登録"),
    "helpdesk.operator_locked": _("オペレーターのロック"),
    "helpdesk.operator_unlocked": _("オペレーターのロック解除"),
    "helpdesk.search": _("お客さま検索"),
    "helpdesk.customer_viewed": _("お客さま情報の表示"),
    "helpdesk.audit_viewed": _("監査記録の表示"),
    "helpdesk.identity_check": _("本人確認"),
    "helpdesk.action_refused": _("手続きの中止（本人確認できず）"),
    "helpdesk.emergency_suspend": _("緊急利用停止（ヘルプデスク）"),
    "helpdesk.lift_requested": _("利用再開の申請"),
    "helpdesk.lift_approved": _("利用再開の承認"),
    "helpdesk.lift_rejected": _("利用再開の却下"),
    "helpdesk.lift_withdrawn": _("利用再開の申請の取下げ"),
    "helpdesk.lockout_unlocked": _("ロック解除（ヘルプデスク）"),
    "helpdesk.token_reset": _("トークンの失効（ヘルプデスク）"),
    "helpdesk.token_mail_resent": _("トークン発行メールの再送"),
    "helpdesk.passkey_revoked": _("パスキーの失効（ヘルプデスク）"),
    "helpdesk.login_recovery": _("パスキーを使わないログインの許可"),
}

# The names of a record's data.
DATA_LABELS: dict[str, Promise] = {
    "account_id": _("口座番号（内部）"),
    "account_number": _("口座番号"),
    "account_type": _("科目"),
    "action": _("操作"),
    "after_lift": _("再開後のトークン"),
    "algorithm": _("方式"),
    "amount": _("金額"),
    "assertion": _("パスキーの用途"),
    "bank_code": _("金融機関コード"),
    "bound": _("取引内容との結び付け"),
    "branch": _("支店番号"),
    "branch_code": _("支店番号"),
    "challenge_id": _("確認要求の番号"),
    "changed": _("変更した質問"),
    "channel": _("方法"),
    "count": _("件数"),
    "digits": _("桁数"),
    "direct_login_urls_voided": _("無効にしたDirectログイン用URL"),
    "drift_steps": _("時刻のずれ（30秒単位）"),
    "expires_at": _("有効期限"),
    "failures": _("失敗回数"),
    "found": _("該当件数"),
    "from_account_id": _("支払口座（内部番号）"),
    "granted_by": _("許可したオペレーター"),
    "identity_check_id": _("本人確認の記録番号"),
    "ip_unparsed": _("接続元（読み取れない値）"),
    "items": _("確認できた項目"),
    "key_id": _("鍵の番号"),
    "kind": _("種類"),
    "lift_request_id": _("利用再開の申請番号"),
    "limit": _("上限"),
    "mandatory": _("必須"),
    "method": _("本人確認の方法"),
    "new": _("変更後"),
    "old": _("変更前"),
    "page": _("ページ"),
    "passkey_id": _("パスキーの番号"),
    "password_changed": _("パスワードの変更"),
    "payee_id": _("登録先の番号"),
    "period": _("更新間隔（秒）"),
    "permanent": _("ヘルプデスクでの解除が必要"),
    "position": _("質問の番号"),
    "positions": _("質問の番号"),
    "prefix": _("鍵の先頭"),
    "purpose": _("目的"),
    "query": _("検索語"),
    "reason": _("理由"),
    "recovery_id": _("許可の番号"),
    "reissue": _("再発行"),
    "replaced_by_token_id": _("新しいトークンの番号"),
    "replaces_token_id": _("置き換えたトークンの番号"),
    "replay": _("再送"),
    # The request the event happened in (netbank.ops.request_id): matches the log lines.
    "request_id": _("リクエストID"),
    "requested_by": _("申請者"),
    "result": _("結果"),
    "resumed_token_count": _("利用を再開したトークン"),
    "reused": _("使用済みの確認要求"),
    "role": _("役割"),
    "scheduled_for": _("指定日"),
    "scheduled_transfers_cancelled": _("取り消した振込予約"),
    "secret_answer_status": _("追加認証の回答"),
    "signed": _("取引認証"),
    "signing_challenges_expired": _("無効にした取引認証"),
    "source": _("停止の受付"),
    "subject": _("対象"),
    "suspended_now": _("今回停止した"),
    "synced": _("同期パスキー"),
    "target_operator_id": _("対象のオペレーター"),
    "ticket_id": _("受付番号"),
    "token_id": _("トークンの番号"),
    "token_issues_voided": _("取り消したトークン発行"),
    "tokens": _("トークン"),
    "tokens_revoked": _("失効させたトークン"),
    "tokens_suspended": _("停止したトークン"),
    "transcript_id": _("設定手続きの番号"),
    "transfer_id": _("振込・振替の番号"),
    "until": _("ロックの期限"),
    "user_id": _("ユーザID"),
    "why": _("理由"),
}

# Coded values, whatever key carries them: reasons, channels, purposes, kinds, results.
VALUE_LABELS: dict[str, Promise] = {
    # channels and sources
    "web": _("ブラウザ"),
    "direct": _("Directログイン（アプリ）"),
    "passkey": _("パスキー"),
    "helpdesk": _("ヘルプデスク"),
    "customer_link": _("お客さま（メールの緊急停止リンク）"),
    "customer_web": _("お客さま（ログイン後の画面）"),
    # credential kinds
    "login_password": _("ログインパスワード"),
    "otp": _("ワンタイムパスワード"),
    "transaction_password": _("確認用パスワード"),
    "secret_answer": _("追加認証の回答"),
    "signing_code": _("取引認証番号"),
    "password": _("パスワード"),
    # identity checks and the console
    "unlock": _("ロック解除"),
    "lift": _("利用再開"),
    "token_reset": _("トークンの失効"),
    "token_mail_resend": _("トークン発行メールの再送"),
    "login_recovery": _("パスキーを使わないログインの許可"),
    "callback": _("登録電話番号への折り返し電話"),
    "branch": _("窓口での本人確認書類"),
    "verified": _("本人確認済み"),
    "failed": _("失敗"),
    "correct": _("一致"),
    "wrong": _("不一致"),
    "identity_not_verified": _("本人確認できず"),
    "name_birthdate": _("氏名・生年月日"),
    "address": _("登録住所"),
    "account": _("口座番号（支店・科目）"),
    "recent_activity": _("最近のお取引・ご利用状況"),
    "resume": _("現在のトークンの利用を再開する"),
    "revoke": _("トークンを失効させる（お客さまが再発行）"),
    "operator": _("オペレーター"),
    "supervisor": _("スーパーバイザー"),
    "approve": _("承認"),
    "reject": _("却下"),
    "withdraw": _("取下げ"),
    # token kinds and algorithms
    "app": _("トークンアプリ"),
    "authenticator": _("認証アプリ"),
    "totp": _("時刻同期（TOTP）"),
    # transfers
    "furikomi": _("振込"),
    "furikae": _("振替"),
    "ordinary": _("普通"),
    "current": _("当座"),
    "savings": _("貯蓄"),
    # passkey checks
    "login": _("ログイン"),
    "confirm": _("お取引の確認"),
    "payment": _("支払いの確認"),
    "accepted": _("確認済み"),
    "locked": _("ロック中"),
    "invalid": _("検証できず"),
    "challenge": _("確認要求が無効"),
    "no_challenge": _("確認要求が無効"),
    "unknown_credential": _("登録のないパスキー"),
    "wrong_customer": _("別のお客さまのパスキー"),
    "replayed": _("同じ応答の再送"),
    "operation": _("お取引の内容が一致しない"),
    "user_handle": _("お客さまの識別子が一致しない"),
    "sign_count": _("複製の疑い（使用回数の逆行）"),
    # token and Direct reasons
    "suspended": _("お取引停止"),
    "revoked": _("失効"),
    "replaced": _("新しいトークンに置き換え"),
    "reissued": _("再発行"),
    "lost_phone": _("紛失などによる失効（ヘルプデスク）"),
    "lift_without_token": _("利用再開時にトークンを失効"),
    "cancelled_by_customer": _("お客さまによる取消"),
    "not_activated_in_time": _("期限内に設定されず"),
    "activation_failures": _("設定の失敗が続いた"),
    "service_id": _("サービスIDの誤り"),
    "no_token": _("利用中のトークンなし"),
    "superseded": _("新しいURLに置き換え"),
    "unknown_user": _("ユーザIDの誤り"),
    "other_service_id": _("別のサービスのトークン"),
    "unknown_user_id": _("ユーザIDの誤り"),
    "customer_not_active": _("お取引停止中"),
    # banking refusals
    "refused": _("お取引できません"),
    "insufficient_funds": _("残高不足"),
    "limit_exceeded": _("振込限度額を超える"),
    "signing_required": _("取引認証が必要"),
    "signing_rejected": _("取引認証番号の誤り"),
    "signing_locked": _("取引認証のロック"),
    "new_token_hold": _("トークン発行後24時間の制限"),
}

# Where a value means something else under one key: a payee registered at a branch
# (channel=branch), an identity check that failed (result=failed).
VALUE_LABELS_BY_KEY: dict[str, dict[str, Promise]] = {
    "channel": {"branch": _("窓口")},
    "result": {"failed": _("本人確認できず")},
}

# Keys that name an operator by id: shown with the operator's name.
# Ids for matching a record with log lines: support reads them in the record's code detail
# (data_codes); as words they would only be noise.
TRACE_KEYS = frozenset({"request_id"})
OPERATOR_KEYS = frozenset({"granted_by", "requested_by", "target_operator_id"})

_CODE = re.compile(r"^[a-z][a-z0-9]*(?:[._][a-z0-9]+)+$|^[a-z]+$")
_ISO_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def event_label(code: str) -> str:
    """The event's name in words; an unknown code (an older release's) says so."""
    label = EVENT_LABELS.get(code)
    return str(label) if label is not None else gettext("その他の記録")


@dataclass(frozen=True)
class DataItem:
    """One piece of a record's data: its name and value in words, and the stored code."""

    key: str
    label: str
    value: str
    code: str


def _value_words(key: str, value: Any, operator_name: Callable[[int], str]) -> str | None:
    """The value in words, or None if it has none (None, or a code with no label)."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return gettext("はい") if value else gettext("いいえ")
    if key in OPERATOR_KEYS and isinstance(value, int):
        return operator_name(value)
    if isinstance(value, int):
        return formats.number_format(value, force_grouping=key == "amount")
    if isinstance(value, list | tuple):
        words = [_value_words(key, v, operator_name) for v in value]
        if any(w is None for w in words):
            return None
        return "、".join(w for w in words if w) or gettext("なし")
    if isinstance(value, str):
        if value in VALUE_LABELS_BY_KEY.get(key, {}):
            return str(VALUE_LABELS_BY_KEY[key][value])
        if value in VALUE_LABELS:
            return str(VALUE_LABELS[value])
        if key == "reason" and value.startswith("start_use_"):
            return gettext("トークンの利用開始に失敗")
        if key == "reason" and value.startswith("not_activatable_"):
            return gettext("設定できない状態のトークン")
        if _ISO_TIME.match(value):
            try:
                when = datetime.fromisoformat(value)
            except ValueError:
                return value
            if timezone.is_aware(when):
                when = timezone.localtime(when)
            return when.strftime("%Y/%m/%d %H:%M:%S")
        if _ISO_DATE.match(value):
            return value.replace("-", "/")
        if _CODE.match(value) and key not in ("query", "prefix"):
            return None
        return value
    return None


def data_items(
    data: Mapping[str, Any] | None, operator_name: Callable[[int], str] | None = None
) -> list[DataItem]:
    """A record's data in words, in a fixed order. Values that have no words (None,
    a code with no label) are left out: the code stays in the record's detail."""
    if not isinstance(data, Mapping):
        return []

    def name_of(pk: int) -> str:
        return operator_name(pk) if operator_name is not None else str(pk)

    items = []
    for key, value in data.items():
        if key in TRACE_KEYS:
            continue
        label = DATA_LABELS.get(str(key))
        words = _value_words(str(key), value, name_of)
        if label is None or words is None:
            continue
        items.append(DataItem(str(key), str(label), words, f"{key}={value}"))
    return items


def data_codes(data: Mapping[str, Any] | None) -> str:
    """The stored data as codes (``key=value, …``), for the detail support reads."""
    if not isinstance(data, Mapping):
        return ""
    return ", ".join(f"{k}={v}" for k, v in data.items())


def unlabelled(codes: Iterable[str], labels: Mapping[str, Any]) -> list[str]:
    """The codes that have no label (for the checks that every code has one)."""
    return sorted({c for c in codes if c not in labels})
