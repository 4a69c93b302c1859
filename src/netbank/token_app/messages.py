"""The app's words, Japanese first and English second.

Japanese unless ``--lang en`` is given or the locale (LC_ALL, LC_MESSAGES, LANG, in
that order, as gettext reads them) is an English one.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Literal

Lang = Literal["ja", "en"]

CATALOG: dict[str, tuple[str, str]] = {
    # --- screens ---------------------------------------------------------------------
    "app_title": ("ワンタイムパスワード", "One-time password"),
    "setup_title": ("初期設定", "Initial setup"),
    "setup_intro": (
        "サービスIDとユーザID、利用開始パスワードを入力し、送信ボタンを押してください。",
        "Enter the service ID, user ID and activation password, then press Send.",
    ),
    "service_id": ("サービスID", "Service ID"),
    "user_id": ("ユーザID", "User ID"),
    "activation_password": ("利用開始パスワード", "Activation password"),
    "send": ("送信", "Send"),
    "quit": ("終了", "Quit"),
    "back": ("戻る", "Back"),
    "next": ("次へ", "Next"),
    "ok": ("OK", "OK"),
    "sending": ("送信しています…", "Sending…"),
    "label": ("表示名", "Label"),
    "bank": ("銀行", "Bank"),
    "applock_title": ("アプリロックについて", "About the app lock"),
    "applock_body": (
        "このアプリには、ワンタイムパスワードを表示するための大切な情報が保存されます。"
        "端末を紛失したときなどに他人に使われないよう、アプリを開くたびに暗証番号（4～8桁の数字）"
        "を入力していただきます。\n"
        "暗証番号を10回続けて間違えると、安全のため、この端末のトークンはすべて消去されます。"
        "3回目からは、間違えるたびに次に入力できるまでの時間が長くなります。",
        "This app keeps the secret that makes your one-time passwords. So that nobody else "
        "can use it if you lose this device, you will enter a PIN (4 to 8 digits) every time "
        "you open the app.\n"
        "After 10 wrong PINs in a row, every token on this device is erased for your safety. "
        "From the third wrong PIN on, you must wait longer before each new try.",
    ),
    "pin_title": ("暗証番号の設定", "Set your PIN"),
    "pin_new": ("暗証番号（4～8桁の数字）", "PIN (4 to 8 digits)"),
    "pin_new_file": (
        "暗証番号（8桁の数字、または12文字以上のパスフレーズ）",
        "PIN (8 digits, or a passphrase of 12 characters or more)",
    ),
    "pin_again": ("暗証番号（確認用）", "PIN (again)"),
    "pin_again_hint": ("確認のため再度入力して下さい。", "Type it again to confirm."),
    "pin_enter": ("暗証番号", "PIN"),
    "pin_set_button": ("設定する", "Set PIN"),
    "unlock_title": ("アプリロック解除", "Unlock"),
    "unlock_intro": (
        "暗証番号を入力してください。",
        "Enter your PIN.",
    ),
    "unlock_button": ("ロック解除", "Unlock"),
    "main_title": ("ワンタイムパスワード", "One-time password"),
    "seconds_left": ("あと{seconds}秒", "{seconds} s left"),
    "tokens": ("トークン", "Tokens"),
    "add_token": ("トークン追加", "Add token"),
    "settings": ("設定", "Settings"),
    "direct_login": ("Directログイン", "Direct login"),
    "lock_now": ("ロック", "Lock"),
    "settings_title": ("設定", "Settings"),
    "change_pin": ("暗証番号の変更", "Change PIN"),
    "pin_current": ("現在の暗証番号", "Current PIN"),
    "pin_changed": ("暗証番号を変更しました。", "Your PIN has been changed."),
    "rename_token": ("表示名の変更", "Rename"),
    "change": ("変更", "Change"),
    "renamed": ("表示名を変更しました。", "The token has been renamed."),
    "check_time": ("時刻を確認", "Check the clock"),
    "time_ok": (
        "端末の時刻は正しく設定されています（ずれ {seconds}秒）。",
        "The device clock is right (off by {seconds} s).",
    ),
    "remove_token": ("このトークンを削除", "Remove this token"),
    "remove_confirm": (
        "「{label}」をこの端末から削除します。削除すると、このトークンのワンタイムパスワードは"
        "表示できなくなり、元に戻せません。ログインにワンタイムパスワードが必要な場合は、"
        "銀行でトークンを再発行していただく必要があります。削除しますか？",
        "“{label}” will be removed from this device. Its one-time passwords can no longer be "
        "shown and this cannot be undone. If your logins need it, the bank must issue you a "
        "new token. Remove it?",
    ),
    "remove_yes": ("削除する", "Remove"),
    "removed": ("「{label}」を削除しました。", "“{label}” has been removed."),
    "device_secret_keyring": (
        "端末の鍵の保管場所: OSのキーリング",
        "Device key kept in: the OS keyring",
    ),
    "device_secret_file": (
        "端末の鍵の保管場所: ファイル（この端末にはキーリングがありません）",
        "Device key kept in: a file (this device has no keyring)",
    ),
    "language": ("Language / 言語", "Language / 言語"),
    "helpdesk_title": ("ヘルプデスク", "Helpdesk"),
    "setup_done": (
        "トークンを設定しました（{label}）。",
        "The token has been set up ({label}).",
    ),
    "setup_next": (
        "パソコンから「ワンタイムパスワード利用開始」を選び、このアプリに表示されている"
        "ワンタイムパスワードを入力してください。",
        "On your PC, choose “Start using one-time passwords” and enter the one-time "
        "password this app shows.",
    ),
    "unsaved_token_warning": (
        "暗証番号を設定しないで終了すると、設定したトークンは保存されません。",
        "If you quit before setting a PIN, the token you just set up is not saved.",
    ),
    # --- Directログイン -----------------------------------------------------------------------
    "login_title": ("Directログイン", "Direct login"),
    "login_intro": (
        "ログインIDとログインパスワードを入力し、ログインボタンを押してください。"
        "ワンタイムパスワードは自動的に入力されます。",
        "Enter your login ID and login password, then press Log in. The app adds the "
        "one-time password itself.",
    ),
    "login_id": ("ログインID", "Login ID"),
    "login_password": ("ログインパスワード", "Login password"),
    "login_button": ("ログイン", "Log in"),
    "login_opened": (
        "ブラウザでネットバンクを開きました。",
        "The bank has been opened in your browser.",
    ),
    "login_url": (
        "ブラウザが見つかりません。次のURLを60秒以内にブラウザで開いてください（1回限り有効）:",
        "No browser found. Open this URL in a browser within 60 seconds (it works once):",
    ),
    "err_login_failed": (
        "ログインできませんでした。ログインID、ログインパスワードをご確認ください。",
        "Could not log in. Check your login ID and login password.",
    ),
    "err_untrusted_login": (
        "銀行からの応答が正しくありません。ブラウザは開きませんでした。",
        "The bank's answer is not right, so no browser was opened.",
    ),
    "prompt_login_id": ("ログインID: ", "Login ID: "),
    "prompt_login_password": ("ログインパスワード: ", "Login password: "),
    # --- 取引認証 -------------------------------------------------------------------------
    "sign_title": ("取引認証", "Transaction signing"),
    "sign_intro": (
        "ネットバンクの確認画面に表示されている取引認証の質問（54桁の数字）を入力してください。",
        "Enter the signing question (54 digits) shown on the bank's confirmation screen.",
    ),
    "sign_question": ("質問（54桁の数字）", "Question (54 digits)"),
    "sign_check": ("内容を確認", "Check"),
    "sign_confirm_intro": (
        "次のお取引を認証します。ネットバンクの画面と同じであることを確かめてください。"
        "違う場合は取引認証番号を入力せず、ヘルプデスクへご連絡ください。",
        "You are about to approve the operation below. Make sure it is what the bank's screen "
        "shows. If it is not, do not enter the code and call the helpdesk.",
    ),
    "sign_confirm": ("この内容で認証する", "Approve this"),
    "sign_code": ("取引認証番号", "Signing code"),
    "sign_code_hint": (
        "この取引認証番号をネットバンクの確認画面に入力してください（1回限り有効）。",
        "Enter this code on the bank's confirmation screen (it works once).",
    ),
    "sign_fetch": ("銀行から取得", "Fetch from the bank"),
    "sign_none_pending": (
        "認証を待っているお取引はありません。ネットバンクの確認画面を表示してから、もう一度お試しください。",
        "No operation is waiting to be signed. Open the bank's confirmation screen and try again.",
    ),
    "err_sign_unauthorized": (
        "このトークンでは取引認証の質問を取得できません（利用開始前のトークン、または別の銀行のトークンです）。"
        "質問を画面から入力してください。",
        "This token cannot fetch signing questions (it is not in use yet, or it belongs to "
        "another bank). Type the question from the screen instead.",
    ),
    "prompt_sign_question": ("取引認証の質問（54桁）: ", "Signing question (54 digits): "),
    "prompt_sign_confirm": ("この内容で認証しますか？ [y/N]: ", "Approve this? [y/N]: "),
    "err_sign_question": (
        "取引認証の質問の形式が正しくありません。画面に表示されている54桁の数字を入力してください。",
        "That is not a signing question of the bank's form. Enter the 54 digits the bank's "
        "screen shows.",
    ),
    "err_sign_needs_yes": (
        "内容の確認ができないため中止しました。表示された内容を確かめたうえで --yes を付けてください。",
        "Cannot ask you to confirm; check the operation and add --yes.",
    ),
    "sign_purpose": ("お取引", "Operation"),
    "sign_debit_account": ("支払口座（支店-口座番号）", "Paid from (branch-account)"),
    "sign_execution_date": ("振込指定日", "Transfer date"),
    "sign_date_now": ("即時（今すぐ振込）", "Now (immediate transfer)"),
    "sign_date": (
        "{year}年{month}月{day}日（振込予約）",
        "{year}-{month:02d}-{day:02d} (scheduled)",
    ),
    "sign_bank_code": ("金融機関コード", "Bank code"),
    "sign_branch_code": ("支店コード", "Branch code"),
    "sign_account_type": ("科目", "Account type"),
    "sign_account_number": ("口座番号", "Account number"),
    "sign_amount": ("金額", "Amount"),
    "sign_new_limit": ("新しい振込限度額", "New daily transfer limit"),
    "sign_nonce": ("取引番号", "Transaction number"),
    "sign_yen": ("{amount}円", "¥{amount}"),
    "sign_purpose_1": ("振込", "Transfer"),
    "sign_purpose_2": ("登録先の登録", "Register a payee"),
    "sign_purpose_3": ("振込限度額の引き上げ", "Raise the daily transfer limit"),
    "sign_type_1": ("普通", "Ordinary"),
    "sign_type_2": ("当座", "Current"),
    "sign_type_4": ("貯蓄", "Savings"),
    # --- clock ------------------------------------------------------------------------------
    "clock_fast": (
        "端末の時刻が銀行の時刻より{seconds}秒進んでいます。端末の日付と時刻を正しく設定してください。"
        "ずれたままでは、ワンタイムパスワードが受け付けられないことがあります。",
        "This device's clock is {seconds} s ahead of the bank's. Set the date and time right; "
        "otherwise your one-time passwords may be refused.",
    ),
    "clock_slow": (
        "端末の時刻が銀行の時刻より{seconds}秒遅れています。端末の日付と時刻を正しく設定してください。"
        "ずれたままでは、ワンタイムパスワードが受け付けられないことがあります。",
        "This device's clock is {seconds} s behind the bank's. Set the date and time right; "
        "otherwise your one-time passwords may be refused.",
    ),
    # --- errors ---------------------------------------------------------------------------
    "err_required": ("{field}を入力してください。", "Enter the {field}."),
    "err_service_id": (
        "サービスIDは、メールに記載されている半角英数字（32文字以内）を入力してください。",
        "The service ID is the letters and digits (up to 32) from the mail.",
    ),
    "err_service_id_other_bank": (
        "このアプリは{bank}用です（サービスID {expected}）。メールに記載のサービスIDをご確認ください。",
        "This app is set up for {bank} (service ID {expected}). Check the service ID in the mail.",
    ),
    "err_user_id": (
        "ユーザIDは、メールに記載されている12桁の数字を入力してください。",
        "The user ID is the 12 digits from the mail.",
    ),
    "err_activation_password": (
        "利用開始パスワードは、トークン発行の申請で登録した4～8桁の数字です。",
        "The activation password is the 4 to 8 digits you chose when you applied for the token.",
    ),
    "err_invalid_pin": (
        "暗証番号は4～8桁の数字で入力してください。",
        "The PIN must be 4 to 8 digits.",
    ),
    "err_pin_too_weak": (
        "この端末にはキーリング（OSの鍵保管庫）がないため、暗証番号は8桁の数字か、"
        "12文字以上のパスフレーズにしてください。",
        "This device has no keyring (the system's key store), so the PIN must be 8 digits "
        "or a passphrase of 12 characters or more.",
    ),
    "warn_pin_too_short": (
        "この端末にはキーリングがありません。暗証番号を8桁の数字か12文字以上の"
        "パスフレーズに変更してください。",
        "This device has no keyring: please change your PIN to 8 digits or a passphrase "
        "of 12 characters or more.",
    ),
    "err_state_dir": (
        "端末の秘密情報の保存先がアプリのデータフォルダの中にあります。"
        "NETBANK_TOKEN_SECRET_DIR にデータフォルダの外のフォルダを指定してください。",
        "The folder for the device secret is inside the app's data folder. Set "
        "NETBANK_TOKEN_SECRET_DIR to a folder outside it.",
    ),
    "err_pin_mismatch": (
        "暗証番号が一致しません。もう一度入力してください。",
        "The two PINs differ. Please type them again.",
    ),
    "err_wrong_pin": (
        "暗証番号が正しくありません。",
        "That PIN is not correct.",
    ),
    "err_wrong_pin_left": (
        "ご注意ください。あと{n}回間違えると、この端末のトークンはすべて消去されます。",
        "Careful: {n} more wrong PIN(s) and every token on this device is erased.",
    ),
    "err_pin_wait": (
        "次の入力まで{seconds}秒お待ちください。",
        "Please wait {seconds} s before the next try.",
    ),
    "err_vault_wiped": (
        "暗証番号を10回間違えたため、安全のため、この端末のトークンをすべて消去しました。"
        "ワンタイムパスワードを使うには、銀行でトークンを再発行してください。",
        "After 10 wrong PINs, every token on this device has been erased for your safety. "
        "To use one-time passwords again, ask the bank to issue a new token.",
    ),
    "err_vault_not_found": (
        "この端末には、まだトークンが設定されていません。初期設定を行ってください"
        "（netbank-token setup）。",
        "No token is set up on this device yet. Run the initial setup (netbank-token setup).",
    ),
    "err_vault_exists": (
        "この端末には、すでにトークンの保存ファイルがあります。",
        "This device already has a token vault.",
    ),
    "err_vault_tampered": (
        "トークンの保存ファイルが壊れているか、書き換えられています。安全のため使用できません。"
        "心当たりがない場合は、ヘルプデスクへご連絡のうえ、トークンを再発行してください。",
        "The token vault is damaged or has been altered, so it cannot be used. If you did not "
        "do this, call the helpdesk and ask for a new token.",
    ),
    "err_device_secret_missing": (
        "この保存ファイルは、この端末で作られたものではないため開けません（別の端末から"
        "コピーされた保存ファイルは使えません）。この端末で初期設定を行ってください。",
        "This vault was not made on this device, so it cannot be opened (a vault copied from "
        "another device is useless). Set the token up on this device instead.",
    ),
    "err_keyring_unavailable": (
        "この保存ファイルの鍵はOSのキーリングに保管されていますが、いまキーリングを使えません。"
        "この端末のデスクトップにログインした状態で、もう一度お試しください。",
        "This vault's key is kept in the OS keyring, which cannot be used right now. Try "
        "again while logged in to this computer's desktop.",
    ),
    "err_vault_changed": (
        "別の画面で保存ファイルが変更されました。もう一度ロックを解除してください。",
        "The vault was changed in another window. Please unlock it again.",
    ),
    "err_vault_io": (
        "トークンの保存ファイルを書き込めませんでした（{detail}）。",
        "The token vault could not be written ({detail}).",
    ),
    "err_token_not_found": (
        "「{name}」というトークンはありません。",
        "There is no token called “{name}”.",
    ),
    "err_no_tokens": (
        "トークンが保存されていません。",
        "No token is stored.",
    ),
    "err_several_tokens": (
        "トークンが複数あります。--token で表示名を指定してください: {names}",
        "There are several tokens; name one with --token: {names}",
    ),
    "err_label_taken": (
        "「{name}」という表示名はすでに使われています。",
        "The label “{name}” is already in use.",
    ),
    "err_label_invalid": (
        "表示名は1～40文字で入力してください。",
        "A label is 1 to 40 characters.",
    ),
    "bank_key_line": (
        "銀行の署名鍵の指紋: {fingerprint}（{key_id}、有効期限 {not_after}）",
        "Bank signing key fingerprint: {fingerprint} ({key_id}, valid until {not_after})",
    ),
    "bank_next_key_line": (
        "次の署名鍵の指紋: {fingerprint}（{key_id}、有効期限 {not_after}）",
        "Next signing key fingerprint: {fingerprint} ({key_id}, valid until {not_after})",
    ),
    "bank_key_compare": (
        "この指紋がトークン発行のメールまたは銀行のダウンロードページの指紋と一致することを"
        "ご確認ください。一致しない場合は設定を中止し、ヘルプデスクにご連絡ください。",
        "Check that this fingerprint matches the one in the token mail or on the bank's "
        "download page. If it does not, stop and call the helpdesk.",
    ),
    "warn_dev_config": (
        "警告: 銀行の設定ファイルを {source} から読み込んでいます。これは開発・試験用の機能です。"
        "銀行が配布するアプリには設定が同梱されています。心当たりがない場合は設定を中止してください。",
        "WARNING: the bank's install configuration comes from {source}. This is for "
        "development and testing only; the bank's own build of the app ships its "
        "configuration. If you did not set this, stop now.",
    ),
    "err_bank_key_expired": (
        "アプリが信頼する銀行の署名鍵の有効期限が切れています。銀行の正式なサイトから"
        "最新のアプリまたは設定ファイルを入手してください。（{detail}）",
        "The bank signing keys this app trusts have expired. Get the current app or "
        "install configuration from the bank's official site. ({detail})",
    ),
    "err_install_config": (
        "銀行の設定（インストール設定）を読み込めませんでした: {detail}",
        "The bank's install configuration could not be read: {detail}",
    ),
    "err_network": (
        "銀行に接続できませんでした。通信環境の良い場所で、もう一度お試しください。",
        "Could not reach the bank. Please try again where the connection is good.",
    ),
    "err_untrusted": (
        "銀行からの応答を確認できませんでした。正規のアプリと接続先であることをご確認ください。"
        "トークンは保存していません。",
        "The bank's answer could not be verified. Make sure you use the genuine app and "
        "bank. Nothing was saved.",
    ),
    "err_activation_refused": (
        "トークンの設定ができませんでした。サービスID、ユーザID、利用開始パスワードをご確認ください。",
        "The token could not be set up. Check the service ID, user ID and activation password.",
    ),
    "err_throttled": (
        "短時間に多くの操作がありました。しばらくしてから、もう一度お試しください。",
        "Too many tries in a short time. Please wait a moment and try again.",
    ),
    "activation_void_hint": (
        "利用開始パスワードを5回間違えると、そのトークン発行は無効になります。"
        "無効になった場合は、パソコンまたはスマートフォンからトークン発行をもう一度申請するか、"
        "ヘルプデスクへご連絡ください。",
        "After 5 wrong activation passwords the token issue is void. Then apply for a new "
        "token again on your PC or smartphone, or call the helpdesk.",
    ),
    "activation_voided": (
        "利用開始パスワードを5回間違えたため、このトークン発行は無効になった可能性があります。"
        "パソコンまたはスマートフォンからネットバンクにログインし、トークン発行をもう一度"
        "申請してください（新しいユーザIDがメールで届きます）。ご不明な点はヘルプデスクへ"
        "ご連絡ください。",
        "After 5 wrong activation passwords this token issue has most likely been voided. "
        "Log in to the bank on your PC or smartphone and apply for a new token (a new user "
        "ID comes by mail). For help, call the helpdesk.",
    ),
    "attempts_here": (
        "この端末からの失敗: {n}回",
        "Failed tries from this device: {n}",
    ),
    "err_usage": ("入力内容に誤りがあります: {detail}", "Invalid input: {detail}"),
    "err_interrupted": ("中断しました。", "Interrupted."),
    "err_no_tty": (
        "{what}を入力する端末がありません。--pin-stdin / --password-stdin をお使いください。",
        "No terminal to type the {what} on; use --pin-stdin / --password-stdin.",
    ),
    "err_stdin_empty": (
        "標準入力から{what}を読み取れませんでした。",
        "Could not read the {what} from standard input.",
    ),
    "err_confirm_needs_yes": (
        "確認ができないため中止しました。削除するには --yes を付けてください。",
        "Cannot ask for confirmation; add --yes to remove.",
    ),
    "cancelled": ("中止しました。", "Cancelled."),
    # --- helpdesk ---------------------------------------------------------------------------
    "helpdesk_generic": (
        "ご不明な点は、お取引の銀行のヘルプデスクへご連絡ください"
        "（連絡先は銀行のホームページやトークン発行のメールに記載されています）。",
        "For help, call your bank's helpdesk (its number is on the bank's website and in "
        "the token mail).",
    ),
    "helpdesk_line": (
        "{name} ☎ {phone}（音声ガイダンスに沿って{option}番）",
        "{name} ☎ {phone} (press {option} at the voice menu)",
    ),
    "helpdesk_hours": ("受付時間: {hours}", "Hours: {hours}"),
    "helpdesk_emergency": (
        "不正送金の被害に遭ったら（緊急時のサービス利用停止）: ☎ {phone}（{option}番）{hours}",
        "Fraudulent transfer? Emergency suspension: ☎ {phone} (option {option}) {hours}",
    ),
    # --- CLI -------------------------------------------------------------------------------
    "prompt_password": ("利用開始パスワード: ", "Activation password: "),
    "prompt_pin": ("暗証番号: ", "PIN: "),
    "prompt_new_pin": ("暗証番号（4～8桁の数字）: ", "New PIN (4 to 8 digits): "),
    "prompt_new_pin_file": (
        "暗証番号（8桁の数字、または12文字以上のパスフレーズ）: ",
        "New PIN (8 digits, or a passphrase of 12+ characters): ",
    ),
    "prompt_new_pin_again": ("暗証番号（確認用）: ", "New PIN again: "),
    "prompt_remove": ("削除しますか？ [y/N]: ", "Remove it? [y/N]: "),
    "list_empty": ("トークンはありません。", "No tokens."),
    "code_line": ("{code}（あと{seconds}秒）", "{code} ({seconds} s left)"),
}


def detect_lang(explicit: str | None = None, environ: Mapping[str, str] | None = None) -> Lang:
    if explicit:
        return "en" if explicit.lower().startswith("en") else "ja"
    env = os.environ if environ is None else environ
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = env.get(name, "")
        if value:
            return "en" if value.lower().startswith("en") else "ja"
    return "ja"


class Messages:
    """``msg("key", n=3)`` in the chosen language."""

    def __init__(self, lang: Lang = "ja") -> None:
        self.lang: Lang = lang

    def __call__(self, key: str, **params: object) -> str:
        ja, en = CATALOG[key]
        text = en if self.lang == "en" else ja
        return text.format(**params) if params else text

    def pick(self, ja: str, en: str) -> str:
        """Choose between two texts that came from elsewhere (e.g. the bank's answer)."""
        return (en or ja) if self.lang == "en" else (ja or en)
