// Token activation (docs/protocols.md §1) as netbank.oath.activation and token_app.client.
// The 利用開始パスワード never leaves the phone: only a MAC keyed from the X25519 exchange
// does, after the bank's signed answer passed every check.

import { FormatError, SERVICE_ID_RE, b64urlDecode, b64urlEncode, bytesEqual, concat, errorClass, halfWidth, hkdf, isObject, parseUrl, utf8 } from "./bytes.js";
import { HASH_BYTES, hmac } from "./oath.js";

export const PROTOCOL = "netbank-activation/1";
const USER_ID_RE = /^[0-9]{12}$/;
const MAX_TIME = 2 ** 40;
// Python's str.strip() whitespace: " ４８２９\u3000" reads as the bank reads it.
const PY_SPACE = "[\\t-\\r\\x1c-\\x20\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]";
const STRIP_RE = new RegExp(`^${PY_SPACE}+|${PY_SPACE}+$`, "g");
const strip = (text) => (typeof text === "string" ? text.replace(STRIP_RE, "") : "");

// `message` Japanese, `messageEn` English.
const ActivationError = errorClass("ActivationError", ["messageEn"]);

export class InvalidInputError extends ActivationError {
  constructor(field, detail) {
    super("サービスID、ユーザID、利用開始パスワードの形式が正しくありません。", `Check what you typed: ${detail}`);
    this.field = field;
  }
}

export class ActivationRefusedError extends ActivationError {
  constructor(code, message, messageEn, status) {
    super(message, messageEn);
    Object.assign(this, { code, status });
  }
}

export class UntrustedAnswerError extends ActivationError {}

export class TransportError extends ActivationError {}

const MALFORMED = "銀行からの応答が正しくありません。";
const UNTRUSTED = "銀行からの応答を確認できませんでした。正規のアプリと接続先であることをご確認ください。";
const untrusted = (why) => new UntrustedAnswerError(UNTRUSTED, why);

export function normalisePassword(text) {
  const digits = halfWidth(strip(text));
  if (!/^[0-9]{4,8}$/.test(digits)) throw new InvalidInputError("password", "the password is 4 to 8 digits");
  return digits;
}

// Python reads 6.0 or 6e0 as a float, which the integer checks refuse: so must the app.
function parseJson(text) {
  return JSON.parse(text, (_key, value, context) =>
    typeof value === "number" && context && !/^-?(?:0|[1-9][0-9]*)$/.test(context.source) ? NaN : value);
}

const matches = (pattern) => (v) => typeof v === "string" && pattern.test(v);
const between = (low, high) => (v) => Number.isInteger(v) && v >= low && v <= high;
// The transcript in order (§1.4): wire name, field, and a byte length or a check.
const FIELDS = [
  ["transcript_id", "transcriptId", 16],
  ["service_id", "serviceId", matches(SERVICE_ID_RE)],
  ["user_id", "userId", matches(USER_ID_RE)],
  ["app_public_key", "appPublicKey", 32],
  ["server_public_key", "serverPublicKey", 32],
  ["algorithm", "algorithm", (v) => Object.hasOwn(HASH_BYTES, v)],
  ["digits", "digits", between(6, 8)],
  ["period", "period", between(10, 300)],
  ["server_time", "serverTime", between(0, MAX_TIME)],
  ["expires_at", "expiresAt", between(0, MAX_TIME)],
];

function checkTranscript(t) {
  for (const [wire, field, check] of FIELDS) {
    const value = t[field];
    const ok = typeof check === "number" ? value instanceof Uint8Array && value.length === check : check(value);
    if (!ok) throw new FormatError(`${wire} is not valid`, wire);
  }
}

// §1.4: every name and value behind a 4-byte length.
export function encodeTranscript(t) {
  checkTranscript(t);
  const lp = (bytes) => {
    const out = new Uint8Array(4 + bytes.length);
    new DataView(out.buffer).setUint32(0, bytes.length);
    out.set(bytes, 4);
    return out;
  };
  const value = (v) => (v instanceof Uint8Array ? v : utf8(String(v)));
  return concat(lp(utf8(PROTOCOL)), ...FIELDS.flatMap(([wire, field]) => [lp(utf8(wire)), lp(value(t[field]))]));
}

// Strictly as Transcript.from_json; a missing signature is null (verifyAnswer refuses it).
export function parseAnswer(json) {
  try {
    const data = typeof json === "string" ? parseJson(json) : json;
    if (!isObject(data)) throw new FormatError("the answer must be a JSON object");
    if (data.protocol !== PROTOCOL) throw new FormatError(`the answer is not ${PROTOCOL}`);
    const transcript = {};
    for (const [wire, field, check] of FIELDS) {
      transcript[field] = typeof check === "number" ? b64urlDecode(data[wire], check, wire) : data[wire];
    }
    checkTranscript(transcript);
    const raw = data.signature;
    return { transcript, signature: raw == null || raw === "" ? null : b64urlDecode(raw, 64, "signature") };
  } catch (error) {
    throw new UntrustedAnswerError(MALFORMED, `Malformed server answer: ${error.message}`);
  }
}

// Base64url text, keysAt's {publicKey} entries, or CryptoKeys.
function importBankKeys(trustedKeys) {
  const list = [trustedKeys].flat();
  if (!list.length) throw new FormatError("no bank public key", "trustedKeys");
  return Promise.all(list.map((k) => (k instanceof CryptoKey ? k
    : crypto.subtle.importKey("raw", b64urlDecode(k?.publicKey ?? k, 32, "bank public key"), { name: "Ed25519" }, false, ["verify"]))));
}

// Either key may have signed while the bank rolls its key over.
export async function verifyAnswer(trustedKeys, transcript, signature) {
  if (!signature) throw untrusted("the server answer is not signed");
  const message = concat(utf8(PROTOCOL + " server-answer\0"), encodeTranscript(transcript));
  for (const key of await importBankKeys(trustedKeys)) {
    if (await crypto.subtle.verify({ name: "Ed25519" }, key, signature, message)) return;
  }
  throw untrusted("the server answer is not signed by the bank's key");
}

// A small-order peer key (all-zero secret) is refused.
export async function x25519SharedSecret(privateKey, peerPublic) {
  let shared = new Uint8Array(32);
  try {
    const peer = await crypto.subtle.importKey("raw", peerPublic, { name: "X25519" }, false, []);
    shared = new Uint8Array(await crypto.subtle.deriveBits({ name: "X25519", public: peer }, privateKey, 256));
  } catch {
    // Chromium refuses some small-order keys itself; the check below is the rule.
  }
  if (shared.every((b) => b === 0)) throw new UntrustedAnswerError(MALFORMED, "the peer's X25519 public key is not usable");
  return shared;
}

// §1.6.
export async function deriveKeys(sharedSecret, transcript) {
  const encoded = encodeTranscript(transcript);
  const derive = (label, length) => hkdf(sharedSecret, utf8(PROTOCOL), concat(utf8(label), encoded), length * 8);
  return {
    confirmationKey: await derive("confirmation-key\0", 32),
    seed: await derive("otp-seed\0", HASH_BYTES[transcript.algorithm]),
    signingKey: await derive("signing-key\0", 32),
  };
}

// One label per side, so neither MAC can stand for the other.
const confirmationMac = (label) => (confirmationKey, transcript, password) => hmac("SHA256", confirmationKey,
  concat(utf8(label), encodeTranscript(transcript), typeof password === "string" ? utf8(password) : password));
export const clientProof = confirmationMac("client-proof\0");
export const serverConfirmation = confirmationMac("server-confirmation\0");

// https, or http only to this machine (the demo).
function checkBankUrl(bankUrl) {
  const url = parseUrl(bankUrl);
  const loopback = url && (url.hostname === "localhost" || url.hostname === "[::1]" || /^127\.[0-9.]+$/.test(url.hostname));
  if (!url?.hostname || !(url.protocol === "https:" || (url.protocol === "http:" && loopback))) {
    throw new InvalidInputError("bankUrl", "the bank URL must be an https:// URL");
  }
  return bankUrl.replace(/\/+$/, "");
}

function parseResponse(status, raw) {
  const fail = (why) => new TransportError(MALFORMED, why);
  if (raw.length > 64 * 1024) throw fail("The answer is too large.");
  let data;
  try {
    data = parseJson(new TextDecoder("utf-8", { fatal: true }).decode(raw));
  } catch {
    throw fail(`The answer (HTTP ${status}) is not JSON.`);
  }
  if (!isObject(data)) throw fail("The answer is not an object.");
  if (status === 200) return data;
  const { error } = data;
  if (!isObject(error) || typeof error.code !== "string") throw fail(`Unexpected answer (HTTP ${status}).`);
  const text = (v) => (v ? String(v) : "");
  throw new ActivationRefusedError(error.code, text(error.message), text(error.message_en) || text(error.message), status);
}

// The same body again after a network error or a 5xx (the bank answers a resent round two
// idempotently and does not count a resent wrong proof). An API answer is never a redirect.
async function post({ send, base, attempts, retryDelay }, path, payload) {
  const body = JSON.stringify(payload);
  let last = "";
  for (let attempt = 0; attempt < attempts; attempt++) {
    if (attempt) await new Promise((resolve) => setTimeout(resolve, retryDelay * 2 ** (attempt - 1)));
    let response;
    let raw;
    try {
      response = await send(base + path, {
        method: "POST", body, redirect: "manual", credentials: "omit", cache: "no-store",
        headers: { "Content-Type": "application/json", Accept: "application/json" },
        signal: AbortSignal.timeout(10000),
      });
      raw = new Uint8Array(await response.arrayBuffer());
      if (response.status >= 500) throw new Error(`HTTP ${response.status}`);
    } catch (error) {
      last = error.message;
      continue;
    }
    if (response.type === "opaqueredirect") throw new TransportError(MALFORMED, "The answer is a redirect.");
    return parseResponse(response.status, raw);
  }
  throw new TransportError("銀行に接続できませんでした。通信環境の良い場所で、もう一度お試しください。",
    `Could not reach the bank (${last}). Please try again where the connection is good.`);
}

// serverTimeOffset: bank − phone seconds at round one's midpoint. `fetch`, `attempts`,
// `retryDelay` and `clock` (ms) are for tests.
export async function activate({ bankUrl, serviceId, userId, password, trustedKeys, fetch: send = globalThis.fetch.bind(globalThis),
  attempts = 3, retryDelay = 1000, clock = Date.now }) {
  const base = checkBankUrl(bankUrl);
  const bankKeys = await importBankKeys(trustedKeys);
  serviceId = strip(serviceId);
  if (!SERVICE_ID_RE.test(serviceId)) throw new InvalidInputError("serviceId", "the service ID is 1-32 of [A-Za-z0-9_-]");
  userId = halfWidth(strip(userId));
  if (!USER_ID_RE.test(userId)) throw new InvalidInputError("userId", "the user ID is 12 digits");
  const digits = normalisePassword(password);
  const options = { send, base, attempts: Math.max(1, attempts), retryDelay };

  const pair = await crypto.subtle.generateKey({ name: "X25519" }, false, ["deriveBits"]);
  const appPublic = new Uint8Array(await crypto.subtle.exportKey("raw", pair.publicKey));
  const sentAt = clock();
  const answer = await post(options, "/api/v1/activation/start", { service_id: serviceId, user_id: userId, app_public_key: b64urlEncode(appPublic) });
  const receivedAt = clock();
  const { transcript, signature } = parseAnswer(answer);
  await verifyAnswer(bankKeys, transcript, signature);
  // Signed, but for another app key or ユーザID: a replay or a relay.
  if (transcript.serviceId !== serviceId || transcript.userId !== userId || !bytesEqual(transcript.appPublicKey, appPublic)) {
    throw untrusted("The signed answer was made for a different request.");
  }
  const keys = await deriveKeys(await x25519SharedSecret(pair.privateKey, transcript.serverPublicKey), transcript);
  const transcriptId = b64urlEncode(transcript.transcriptId);
  const proof = await clientProof(keys.confirmationKey, transcript, digits);
  const result = await post(options, "/api/v1/activation/finish", { transcript_id: transcriptId, proof: b64urlEncode(proof) });
  const expected = await serverConfirmation(keys.confirmationKey, transcript, digits);
  let confirmed = false;
  try {
    confirmed = result.transcript_id === transcriptId && bytesEqual(b64urlDecode(result.server_confirmation, 32), expected);
  } catch {}
  if (!confirmed) throw untrusted("The bank's confirmation does not match this activation.");
  return {
    seed: keys.seed, signingKey: keys.signingKey, algorithm: transcript.algorithm, digits: transcript.digits,
    period: transcript.period, serverTimeOffset: transcript.serverTime - (sentAt + receivedAt) / 2000, serviceId, userId,
  };
}
