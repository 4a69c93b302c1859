// Every text the app shows, Japanese first; the desktop app's words where it says the same.
export const MESSAGES = {
  app_title: ["ワンタイムパスワード", "One-time password"],
  lang_switch: ["English", "日本語"],
  setup_title: ["初期設定", "Initial setup"],
  setup_intro: ["サービスIDとユーザID、利用開始パスワードを入力し、送信ボタンを押してください。", "Enter the service ID, user ID and activation password, then press Send."],
  service_id: ["サービスID", "Service ID"],
  user_id: ["ユーザID", "User ID"],
  activation_password: ["利用開始パスワード", "Activation password"],
  send: ["送信", "Send"],
  sending: ["送信しています…", "Sending…"],
  next: ["次へ", "Next"],
  back: ["戻る", "Back"],
  cancel: ["キャンセル", "Cancel"],
  fingerprint: ["署名鍵の指紋", "Signing key fingerprint"],
  bank_key_compare: ["この指紋がトークン発行のメールまたは銀行のダウンロードページの指紋と一致することをご確認ください。一致しない場合は設定を中止し、ヘルプデスクにご連絡ください。", "Check that this fingerprint matches the one in the token mail or on the bank's download page. If it does not, stop and call the helpdesk."],
  applock_title: ["アプリロックについて", "About the app lock"],
  applock_body: ["このアプリには、ワンタイムパスワードを表示するための大切な情報が保存されます。端末を紛失したときなどに他人に使われないよう、アプリを開くたびに暗証番号（4～8桁の数字）を入力していただきます。", "This app keeps the secret that makes your one-time passwords. So that nobody else can use it if you lose this device, you will enter a PIN (4 to 8 digits) every time you open the app."],
  applock_body2: ["暗証番号を10回続けて間違えると、安全のため、この端末のトークンはすべて消去されます。3回目からは、間違えるたびに次に入力できるまでの時間が長くなります。", "After 10 wrong PINs in a row, every token on this device is erased for your safety. From the third wrong PIN on, you must wait longer before each new try."],
  pin_title: ["暗証番号の設定", "Set your PIN"],
  pin_new: ["暗証番号（4～8桁の数字）", "PIN (4 to 8 digits)"],
  pin_again: ["暗証番号（確認用）", "PIN (again)"],
  pin_enter: ["暗証番号", "PIN"],
  pin_current: ["現在の暗証番号", "Current PIN"],
  pin_set_button: ["設定する", "Set PIN"],
  biometric_use: ["指紋・顔認証でロック解除", "Unlock with fingerprint or face"],
  biometric: ["指紋・顔認証", "Fingerprint or face"],
  biometric_failed: ["指紋・顔認証を設定できませんでした。暗証番号でご利用いただけます。", "Fingerprint or face unlock could not be set up. You can use your PIN."],
  biometric_unlock_failed: ["指紋・顔認証でロックを解除できませんでした。暗証番号を入力してください。", "Fingerprint or face unlock did not work. Enter your PIN."],
  setup_done: ["トークンを設定しました。", "The token has been set up."],
  setup_next: ["「Directログイン」でログインするか、パソコンから「ワンタイムパスワード利用開始」を選び、このアプリに表示されているワンタイムパスワードを入力してください。", "Log in with Direct login, or on your PC choose “Start using one-time passwords” and enter the one-time password this app shows."],
  unlock_title: ["ロック解除", "Unlock"],
  unlock_intro: ["暗証番号を入力してください。", "Enter your PIN."],
  seconds_left: ["あと{seconds}秒", "{seconds} s left"],
  copy: ["コピー", "Copy"],
  copied: ["コピーしました。", "Copied."],
  copy_failed: ["コピーできませんでした。番号を入力してください。", "Could not copy; please type the number."],
  direct_login: ["Directログイン", "Direct login"],
  sign_title: ["取引認証", "Transaction signing"],
  settings: ["設定", "Settings"],
  lock_now: ["ロック", "Lock"],
  install_app: ["ホーム画面に追加", "Add to home screen"],
  clock_fast: ["端末の時刻が銀行の時刻より{seconds}秒進んでいます。端末の日付と時刻を正しく設定してください。ずれたままでは、ワンタイムパスワードが受け付けられないことがあります。", "This device's clock is {seconds} s ahead of the bank's. Set the date and time right; otherwise your one-time passwords may be refused."],
  clock_slow: ["端末の時刻が銀行の時刻より{seconds}秒遅れています。端末の日付と時刻を正しく設定してください。ずれたままでは、ワンタイムパスワードが受け付けられないことがあります。", "This device's clock is {seconds} s behind the bank's. Set the date and time right; otherwise your one-time passwords may be refused."],
  login_intro: ["ログインIDとログインパスワードを入力し、ログインボタンを押してください。ワンタイムパスワードは自動的に入力されます。", "Enter your login ID and login password, then press Log in. The app adds the one-time password itself."],
  login_id: ["ログインID", "Login ID"],
  login_password: ["ログインパスワード", "Login password"],
  login_button: ["ログイン", "Log in"],
  login_opening: ["ネットバンクを開いています…", "Opening the bank…"],
  err_login_failed: ["ログインできませんでした。ログインID、ログインパスワードをご確認ください。", "Could not log in. Check your login ID and login password."],
  err_untrusted_login: ["銀行からの応答が正しくありません。ブラウザは開きませんでした。", "The bank's answer is not right, so no browser was opened."],
  sign_intro: ["ネットバンクの確認画面に表示されている取引認証の質問（54桁の数字）を入力してください。", "Enter the signing question (54 digits) shown on the bank's confirmation screen."],
  sign_question: ["取引認証の質問", "Signing question"],
  sign_check: ["内容を確認", "Check"],
  sign_fetch: ["銀行から取得", "Fetch from the bank"],
  sign_confirm_intro: ["次のお取引を認証します。ネットバンクの画面と同じであることを確かめてください。違う場合は取引認証番号を入力せず、ヘルプデスクへご連絡ください。", "You are about to approve the operation below. Make sure it is what the bank's screen shows. If it is not, do not enter the code and call the helpdesk."],
  sign_show: ["取引認証番号を表示", "Show the signing code"],
  sign_code: ["取引認証番号", "Signing code"],
  sign_code_hint: ["この取引認証番号をネットバンクの確認画面に入力してください（1回限り有効）。", "Enter this code on the bank's confirmation screen (it works once)."],
  sign_none_pending: ["認証を待っているお取引はありません。ネットバンクの確認画面を表示してから、もう一度お試しください。", "No operation is waiting to be signed. Open the bank's confirmation screen and try again."],
  err_sign_unauthorized: ["このトークンでは取引認証の質問を取得できません（利用開始前のトークン、または別の銀行のトークンです）。質問を画面から入力してください。", "This token cannot fetch signing questions (it is not in use yet, or it belongs to another bank). Type the question from the screen instead."],
  err_sign_question: ["取引認証の質問の形式が正しくありません。画面に表示されている54桁の数字を入力してください。", "That is not a signing question of the bank's form. Enter the 54 digits the bank's screen shows."],
  sign_purpose: ["お取引", "Operation"],
  sign_debit_account: ["支払口座（支店-口座番号）", "Paid from (branch-account)"],
  sign_execution_date: ["振込指定日", "Transfer date"],
  sign_date_now: ["即時（今すぐ振込）", "Now (immediate transfer)"],
  sign_date: ["{year}年{month}月{day}日（振込予約）", "{year}-{mm}-{dd} (scheduled)"],
  sign_bank_code: ["金融機関コード", "Bank code"],
  sign_branch_code: ["支店コード", "Branch code"],
  sign_account_type: ["科目", "Account type"],
  sign_account_number: ["口座番号", "Account number"],
  sign_amount: ["金額", "Amount"],
  sign_new_limit: ["新しい振込限度額", "New daily transfer limit"],
  sign_nonce: ["取引番号", "Transaction number"],
  sign_yen: ["{amount}円", "¥{amount}"],
  sign_purpose_1: ["振込", "Transfer"],
  sign_purpose_2: ["登録先の登録", "Register a payee"],
  sign_purpose_3: ["振込限度額の引き上げ", "Raise the daily transfer limit"],
  sign_type_1: ["普通", "Ordinary"],
  sign_type_2: ["当座", "Current"],
  sign_type_4: ["貯蓄", "Savings"],
  change_pin: ["暗証番号の変更", "Change PIN"],
  change: ["変更", "Change"],
  pin_changed: ["暗証番号を変更しました。", "Your PIN has been changed."],
  biometric_on: ["指紋・顔認証を使う", "Use fingerprint or face"],
  biometric_off: ["指紋・顔認証をやめる", "Stop using fingerprint or face"],
  biometric_enabled: ["指紋・顔認証でロックを解除できるようにしました。", "Fingerprint or face unlock is on."],
  biometric_disabled: ["指紋・顔認証でのロック解除をやめました。", "Fingerprint or face unlock is off."],
  biometric_unavailable: ["この端末では指紋・顔認証を使えません。", "This device cannot use fingerprint or face unlock."],
  remove_token: ["トークンを削除", "Remove the token"],
  remove_confirm: ["トークンをこの端末から削除します。削除すると、このトークンのワンタイムパスワードは表示できなくなり、元に戻せません。ログインにワンタイムパスワードが必要な場合は、銀行でトークンを再発行していただく必要があります。削除しますか？", "The token will be removed from this device. Its one-time passwords can no longer be shown and this cannot be undone. If your logins need it, the bank must issue you a new token. Remove it?"],
  remove_yes: ["削除する", "Remove"],
  removed: ["トークンを削除しました。", "The token has been removed."],
  app_version: ["アプリのバージョン", "App version"],
  helpdesk_title: ["ヘルプデスク", "Helpdesk"],
  helpdesk_general: ["ネットバンクに関するサービスおよび各種操作方法について ☎ {phone}（音声ガイダンスに沿って{option}番）", "Services and how to use them ☎ {phone} (press {option} at the voice menu)"],
  helpdesk_hours: ["受付時間: [平日] {weekday} [土日祝] {holiday} ※{closed}は終日、受け付けておりません。", "Hours: weekdays {weekday}, weekends and holidays {holiday}; closed all day on {closed}."],
  helpdesk_emergency: ["不正送金の被害に遭ったら（緊急時のサービス利用停止）: ☎ {phone}（{option}番）24時間 365日", "Fraudulent transfer? Emergency suspension: ☎ {phone} (option {option}) 24 hours, every day"],
  err_required: ["{field}を入力してください。", "Enter the {field}."],
  err_service_id: ["サービスIDは、メールに記載されている半角英数字（32文字以内）を入力してください。", "The service ID is the letters and digits (up to 32) from the mail."],
  err_service_id_other_bank: ["このアプリは{bank}用です（サービスID {expected}）。メールに記載のサービスIDをご確認ください。", "This app is set up for {bank} (service ID {expected}). Check the service ID in the mail."],
  err_user_id: ["ユーザIDは、メールに記載されている12桁の数字を入力してください。", "The user ID is the 12 digits from the mail."],
  err_activation_password: ["利用開始パスワードは、トークン発行の申請で登録した4～8桁の数字です。", "The activation password is the 4 to 8 digits you chose when you applied for the token."],
  err_invalid_pin: ["暗証番号は4～8桁の数字で入力してください。", "The PIN must be 4 to 8 digits."],
  err_pin_mismatch: ["暗証番号が一致しません。もう一度入力してください。", "The two PINs differ. Please type them again."],
  err_wrong_pin: ["暗証番号が正しくありません。", "That PIN is not correct."],
  err_wrong_pin_left: ["ご注意ください。あと{n}回間違えると、この端末のトークンはすべて消去されます。", "Careful: {n} more wrong PIN(s) and every token on this device is erased."],
  err_pin_wait: ["次の入力まで{seconds}秒お待ちください。", "Please wait {seconds} s before the next try."],
  err_vault_wiped: ["暗証番号を10回間違えたため、安全のため、この端末のトークンをすべて消去しました。ワンタイムパスワードを使うには、銀行でトークンを再発行してください。", "After 10 wrong PINs, every token on this device has been erased for your safety. To use one-time passwords again, ask the bank to issue a new token."],
  err_vault: ["トークンの保存データを開けませんでした。心当たりがない場合は、ヘルプデスクへご連絡のうえ、トークンを再発行してください。", "The token's stored data could not be opened. If you did not expect this, call the helpdesk and ask for a new token."],
  err_vault_tampered: ["トークンの保存データが壊れているか、書き換えられています。安全のため使用できません。心当たりがない場合は、ヘルプデスクへご連絡のうえ、トークンを再発行してください。", "The token's stored data is damaged or has been altered, so it cannot be used. If you did not do this, call the helpdesk and ask for a new token."],
  err_device_secret_missing: ["この保存データは、このブラウザで作られたものではないため開けません（別の端末からコピーされたデータは使えません）。この端末で初期設定を行ってください。", "This stored token was not made in this browser, so it cannot be opened (a copy from another device is useless). Set the token up on this device instead."],
  err_bank_key_expired: ["アプリが信頼する銀行の署名鍵の有効期限が切れています。銀行の正式なサイトから最新のアプリを開いてください。", "The bank signing keys this app trusts have expired. Open the current app from the bank's official site."],
  err_install_config: ["銀行の設定（インストール設定）を読み込めませんでした。通信環境の良い場所で、もう一度お試しください。", "The bank's install configuration could not be read. Please try again where the connection is good."],
  err_network: ["銀行に接続できませんでした。通信環境の良い場所で、もう一度お試しください。", "Could not reach the bank. Please try again where the connection is good."],
  err_untrusted: ["銀行からの応答を確認できませんでした。正規のアプリと接続先であることをご確認ください。トークンは保存していません。", "The bank's answer could not be verified. Make sure you use the genuine app and bank. Nothing was saved."],
  err_activation_refused: ["トークンの設定ができませんでした。サービスID、ユーザID、利用開始パスワードをご確認ください。", "The token could not be set up. Check the service ID, user ID and activation password."],
  err_throttled: ["短時間に多くの操作がありました。しばらくしてから、もう一度お試しください。", "Too many tries in a short time. Please wait a moment and try again."],
  activation_void_hint: ["利用開始パスワードを5回間違えると、そのトークン発行は無効になります。無効になった場合は、パソコンまたはスマートフォンからトークン発行をもう一度申請するか、ヘルプデスクへご連絡ください。", "After 5 wrong activation passwords the token issue is void. Then apply for a new token again on your PC or smartphone, or call the helpdesk."],
};

const STORE = "netbank-app-lang";
let current = "ja";

// The saved choice, else the browser's.
try {
  current = localStorage.getItem(STORE) || ((navigator.language || "").startsWith("en") ? "en" : "ja");
} catch { /* storage off: Japanese */ }

export const language = () => current;

export function setLanguage(lang) {
  current = lang === "en" ? "en" : "ja";
  try { localStorage.setItem(STORE, current); } catch { /* not kept: fine */ }
  document.documentElement.lang = current;
}

// An unknown key is a bug: it throws.
export function t(key, params = {}) {
  const entry = MESSAGES[key];
  if (!entry) throw new Error(`no message ${key}`);
  return entry[current === "en" ? 1 : 0].replace(/\{(\w+)\}/g, (all, name) => (name in params ? String(params[name]) : all));
}

// The bank's answers carry both languages.
export function pick(ja, en) {
  return current === "en" ? en || ja : ja || en;
}
