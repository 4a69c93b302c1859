// 取引認証: the question from the bank's 確認 screen (typed, pasted or fetched) → what it
// authorises, in words, read from the question itself → only then the 8-digit code.
// Same rows and rules as token_app/signing_view.py (operation_lines).
import { t } from "../messages.js";
import { h, field, showErrors, notice, say, busy } from "../dom.js";
import { bankNow } from "../clock.js";
import { normaliseQuestion, describeQuestion } from "../question.js";
import { pendingRequest, signQuestion, PENDING_PATH } from "../txsign.js";
import { codeScreen } from "./code.js";


const yen = (amount) => t("sign_yen", { amount: String(amount).replace(/\B(?=(\d{3})+(?!\d))/g, ",") });

// [[label, value], …] for a described question (netbank.token_app.signing_view.operation_lines).
export function operationLines(q) {
  const rows = [[t("sign_purpose"), t(`sign_purpose_${q.purpose}`)]];
  if (q.purpose === "1") {
    let when = t("sign_date_now");
    if (q.scheduledFor) {
      const [year, mm, dd] = q.scheduledFor.split("-");
      when = t("sign_date", { year, mm, dd, month: Number(mm), day: Number(dd) });
    }
    rows.push([t("sign_debit_account"), `${q.debitBranchCode}-${q.debitAccountNumber}`], [t("sign_execution_date"), when]);
  }
  if (q.purpose === "1" || q.purpose === "2") {
    rows.push(
      [t("sign_bank_code"), q.bankCode],
      [t("sign_branch_code"), q.branchCode],
      [t("sign_account_type"), t(`sign_type_${q.accountType}`)],
      [t("sign_account_number"), q.accountNumber]);
  }
  if (q.purpose === "1") rows.push([t("sign_amount"), yen(q.amount)]);
  if (q.purpose === "3") rows.push([t("sign_new_limit"), yen(q.amount)]);
  rows.push([t("sign_nonce"), q.nonce]);
  return rows;
}

export function signScreen(app, state) {
  const form = h("form", { novalidate: true, onsubmit: (e) => { e.preventDefault(); check(app, state, form); } },
    field("question", "sign_question", { inputmode: "numeric", autocomplete: "off" }),
    notice("sign-error"),
    h("button", { type: "submit", class: "primary" }, t("sign_check")),
    h("button", { type: "button", class: "secondary", onclick: () => fetchPending(app, state, form) }, t("sign_fetch")),
    h("button", { type: "button", class: "secondary", onclick: () => app.show(codeScreen) }, t("back")));
  if (state.question) form.querySelector("#question").value = state.question;
  return h("section", {}, h("h1", {}, t("sign_title")), h("p", {}, t("sign_intro")), form);
}

function check(app, state, form) {
  const question = normaliseQuestion(document.getElementById("question").value);
  let described;
  try {
    if (!question) throw new Error("empty");
    described = describeQuestion(question);
  } catch {
    return showErrors(form, { question: question ? t("err_sign_question") : t("err_required", { field: t("sign_question") }) });
  }
  app.show(confirmScreen, { question, described });
}

async function fetchPending(app, state, form) {
  const token = app.token;
  say("sign-error", "");
  busy(form, true);
  try {
    const body = await pendingRequest(token.signingKey, { serviceId: token.serviceId, userId: token.userId, time: Math.floor(bankNow()) });
    const response = await fetch(PENDING_PATH, {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body), credentials: "omit", cache: "no-store",
    });
    busy(form, false);
    if (response.status === 401) return say("sign-error", t("err_sign_unauthorized"));
    const data = await response.json();
    if (!response.ok || typeof data.pending !== "boolean") throw new Error(`HTTP ${response.status}`);
    if (!data.pending) return say("sign-error", t("sign_none_pending"));
    // Only a question: what is shown is what the app reads from it, as for a typed one.
    document.getElementById("question").value = String(data.question || "");
    check(app, state, form);
  } catch {
    busy(form, false);
    say("sign-error", t("err_network"));
  }
}

function confirmScreen(app, state) {
  const rows = operationLines(state.described);
  const result = h("div", { id: "signing-result" });
  const show = h("button", { type: "button", class: "primary", onclick: async () => {
    show.disabled = true;
    const code = await signQuestion(app.token.signingKey, state.question);
    result.replaceChildren(
      h("p", { class: "label" }, t("sign_code")),
      h("p", { id: "signing-code", class: "code" }, code),
      h("p", {}, t("sign_code_hint")));
    show.hidden = true;
  } }, t("sign_show"));
  return h("section", {},
    h("h1", {}, t("sign_title")),
    h("p", {}, t("sign_confirm_intro")),
    h("dl", { class: "operation" }, rows.map(([k, v]) => [h("dt", {}, k), h("dd", {}, v)])),
    show, result,
    h("button", { type: "button", class: "secondary", onclick: () => app.show(signScreen, { question: state.question }) }, t("back")),
    h("button", { type: "button", class: "secondary", onclick: () => app.show(codeScreen) }, t("app_title")));
}
