// 取引認証 (docs/protocols.md §4) as oath.txsign: one HKDF subkey per purpose.

import { b64urlEncode, hkdf, utf8 } from "./bytes.js";
import { OathError, hmac, ocra } from "./oath.js";
import { SUITE, describeQuestion } from "./question.js";

export const PENDING_PATH = "/banking/api/v1/signing/pending";
const INFO = { ocra: "ocra-signing-question\0", pending: "pending-question-mac\0" };

export async function signingSubkey(signingKey, purpose) {
  if (!(signingKey instanceof Uint8Array) || signingKey.length !== 32) throw new OathError("the transaction-signing key must be 32 bytes");
  if (!Object.hasOwn(INFO, purpose)) throw new OathError(`unknown signing-key purpose ${purpose}`);
  return hkdf(signingKey, utf8("netbank-transaction-signing/2"), utf8(INFO[purpose]));
}

export async function pendingRequest(signingKey, { serviceId, userId, time }) {
  if (typeof time !== "number" || !Number.isFinite(time)) throw new OathError("time must be a number of seconds");
  const seconds = String(Math.trunc(time));
  const message = utf8(`netbank-signing-pending/2\0${serviceId}\0${userId}\0${seconds}`);
  const mac = await hmac("SHA256", await signingSubkey(signingKey, "pending"), message);
  return { service_id: serviceId, user_id: userId, time: seconds, mac: b64urlEncode(mac) };
}

export async function signQuestion(signingKey, question) {
  describeQuestion(question);
  return ocra(SUITE, await signingSubkey(signingKey, "ocra"), { question });
}
