/**
 * 取引認証 on the phone (docs/protocols.md §4): a port of netbank.oath.txsign and
 * netbank.token_app.signing. The token's 32-byte signing key is never used directly:
 * HKDF gives one subkey for OCRA codes and one for the MAC of the pending-question
 * fetch, so a value made for one purpose is never valid for the other.
 */

import { b64urlEncode, utf8 } from "./bytes.js";
import { OathError, hmac, ocra } from "./oath.js";
import { SUITE, describeQuestion } from "./question.js";

export const PENDING_PATH = "/banking/api/v1/signing/pending";
const SALT = utf8("netbank-transaction-signing/2");
const INFO = { ocra: "ocra-signing-question\0", pending: "pending-question-mac\0" };
const PENDING_CONTEXT = "netbank-signing-pending/2\0";

function checkSigningKey(signingKey) {
  if (!(signingKey instanceof Uint8Array) || signingKey.length !== 32) {
    throw new OathError("the transaction-signing key must be 32 bytes");
  }
}

/** HKDF-SHA256(IKM = signing key, salt = "netbank-transaction-signing/2", info = purpose label), 32 bytes. */
export async function signingSubkey(signingKey, purpose) {
  checkSigningKey(signingKey);
  if (!Object.hasOwn(INFO, purpose)) throw new OathError(`unknown signing-key purpose ${purpose}`);
  const ikm = await crypto.subtle.importKey("raw", signingKey, "HKDF", false, ["deriveBits"]);
  const params = { name: "HKDF", hash: "SHA-256", salt: SALT, info: utf8(INFO[purpose]) };
  return new Uint8Array(await crypto.subtle.deriveBits(params, ikm, 256));
}

/** The key 取引認証番号 are made with. */
export const ocraKey = (signingKey) => signingSubkey(signingKey, "ocra");

/** The key of the MAC that authenticates a fetch of the pending question. */
export const pendingMacKey = (signingKey) => signingSubkey(signingKey, "pending");

/**
 * The JSON body of POST /banking/api/v1/signing/pending at Unix `time` (the bank's
 * clock as the app knows it; the bank accepts ±120 s): the MAC is HMAC-SHA256 under the
 * pending subkey of "netbank-signing-pending/2\0" ‖ service_id \0 user_id \0 time.
 */
export async function pendingRequest(signingKey, { serviceId, userId, time }) {
  if (typeof time !== "number" || !Number.isFinite(time)) throw new OathError("time must be a number of seconds");
  const seconds = String(Math.trunc(time));
  const message = utf8(`${PENDING_CONTEXT}${serviceId}\0${userId}\0${seconds}`);
  const mac = await hmac("SHA256", await pendingMacKey(signingKey), message);
  return { service_id: serviceId, user_id: userId, time: seconds, mac: b64urlEncode(mac) };
}

/** The 8-digit 取引認証番号 (OCRA-1:HOTP-SHA256-8:QN54 under the OCRA subkey) of a well-formed question. */
export async function signQuestion(signingKey, question) {
  describeQuestion(question);
  checkSigningKey(signingKey);
  return ocra(SUITE, await ocraKey(signingKey), { question });
}
