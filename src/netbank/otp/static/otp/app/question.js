// 取引認証 question format 2 (docs/protocols.md §4.2) as oath.txquestion reads it; what the
// bank could not have built is refused.

import { errorClass } from "./bytes.js";

export const SUITE = "OCRA-1:HOTP-SHA256-8:QN54";
export const SigningQuestionError = errorClass("SigningQuestionError");

// As the bank's screen shows it (grouped, perhaps full-width) → the bare digits.
export function normaliseQuestion(text) {
  return String(text).normalize("NFKC").replace(/[ \-\t\u3000]/g, "");
}

// A real day of years 1–9999 (an impossible one does not read back the same).
function calendarDay(day) {
  const iso = `${day.slice(0, 4)}-${day.slice(4, 6)}-${day.slice(6)}`;
  const date = new Date(`${iso}T00:00:00Z`);
  return !day.startsWith("0000") && !isNaN(date) && date.toISOString().startsWith(iso) ? iso : null;
}

// purpose "1" 振込, "2" 登録先の登録, "3" 振込限度額の引き上げ; build_question's checks.
export function describeQuestion(question) {
  const fail = (message) => { throw new SigningQuestionError(message); };
  if (typeof question !== "string" || !/^[0-9]{54}$/.test(question)) fail("a signing question must be 54 digits");
  const purpose = question[0];
  if (!["1", "2", "3"].includes(purpose)) fail("unknown purpose digit");
  const field = (from, to) => question.slice(from, to);
  const request = {
    purpose, bankCode: field(1, 5), branchCode: field(5, 8), accountType: question[8], accountNumber: field(9, 16),
    amount: Number(field(16, 28)), debitBranchCode: field(28, 31), debitAccountNumber: field(31, 38),
    scheduledFor: null, nonce: field(46, 54),
  };
  const day = field(38, 46);
  if (purpose === "3") {
    if (field(1, 16) !== "0".repeat(15)) fail("a limit question carries no payee");
  } else if (!["1", "2", "4"].includes(request.accountType)) {
    fail("account type must be 1 (普通), 2 (当座) or 4 (貯蓄)");
  }
  if (purpose === "2") {
    if (request.amount !== 0) fail("a payee registration carries no amount");
  } else if (request.amount === 0) {
    fail("amount must be 1 to 999,999,999,999 yen");
  }
  if (purpose === "1") {
    if (day !== "00000000") {
      request.scheduledFor = calendarDay(day) ?? fail("the date is not a calendar day");
    }
  } else if (field(28, 46) !== "0".repeat(18)) {
    fail("only a transfer carries a debit account and a date");
  }
  return request;
}
