// 取引認証: question → what it authorises (read from the question itself) → only then the
// code. Rows as token_app/signing_view.operation_lines.
import { t, h, screen, form, btn, field, submit, showErrors, notice, say, raw, busy, required, postJson } from "../dom.js";
import { bankNow } from "../clock.js";
import { normaliseQuestion, describeQuestion } from "../question.js";
import { pendingRequest, signQuestion, PENDING_PATH } from "../txsign.js";
import { codeScreen, backToCode } from "./code.js";

const yen = (n) => t("sign_yen", { amount: String(n).replace(/\B(?=(\d{3})+$)/g, ",") });

export function operationLines(q) {
  const rows = [[t("sign_purpose"), t(`sign_purpose_${q.purpose}`)]];
  if (q.purpose === "1") {
    const [year, mm, dd] = (q.scheduledFor || "").split("-");
    rows.push([t("sign_debit_account"), `${q.debitBranchCode}-${q.debitAccountNumber}`],
      [t("sign_execution_date"), year ? t("sign_date", { year: +year, mm, dd, month: +mm, day: +dd }) : t("sign_date_now")]);
  }
  if (q.purpose !== "3") {
    rows.push([t("sign_bank_code"), q.bankCode], [t("sign_branch_code"), q.branchCode],
      [t("sign_account_type"), t(`sign_type_${q.accountType}`)], [t("sign_account_number"), q.accountNumber]);
  }
  if (q.purpose !== "2") rows.push([t(q.purpose === "1" ? "sign_amount" : "sign_new_limit"), yen(q.amount)]);
  rows.push([t("sign_nonce"), q.nonce]);
  return rows;
}

export function signScreen(app, state) {
  const f = form(check(app),
    field("question", "sign_question", { inputmode: "numeric", autocomplete: "off", value: state.question }),
    notice("sign-error"), submit("sign_check"),
    btn("sign_fetch", () => fetchPending(app, f)), backToCode(app));
  return screen("sign_title", null, h("p", {}, t("sign_intro")), f);
}

const check = (app) => (f) => {
  const question = normaliseQuestion(raw("question"));
  try {
    app.show(confirmScreen, { question, described: describeQuestion(question) });
  } catch {
    showErrors(f, { question: question ? t("err_sign_question") : required("sign_question") });
  }
};

// The bank's pending question (docs/banking.md §4), checked like a typed one.
async function fetchPending(app, f) {
  const { signingKey, serviceId, userId } = app.token;
  say("sign-error", "");
  busy(f, true);
  try {
    const r = await postJson(PENDING_PATH, await pendingRequest(signingKey, { serviceId, userId, time: Math.floor(bankNow()) }));
    busy(f, false);
    if (r.status === 401) return say("sign-error", t("err_sign_unauthorized"));
    const d = await r.json();
    if (!r.ok || typeof d.pending !== "boolean") throw new Error(`HTTP ${r.status}`);
    if (!d.pending) return say("sign-error", t("sign_none_pending"));
    document.getElementById("question").value = String(d.question);
    check(app)(f);
  } catch {
    busy(f, false);
    say("sign-error", t("err_network"));
  }
}

function confirmScreen(app, state) {
  const result = h("div", { id: "signing-result" });
  const show = btn("sign_show", async () => {
    show.hidden = true;
    result.append(h("p", {}, t("sign_code")), h("p", { id: "signing-code", class: "code" }, await signQuestion(app.token.signingKey, state.question)), h("p", {}, t("sign_code_hint")));
  }, "primary");
  return screen("sign_title", null, h("p", {}, t("sign_confirm_intro")),
    h("dl", { class: "operation" }, operationLines(state.described).map(([k, v]) => [h("dt", {}, k), h("dd", {}, v)])),
    show, result,
    btn("back", () => app.show(signScreen, { question: state.question })), btn("app_title", () => app.show(codeScreen)));
}
