/**
 * Token activation (docs/protocols.md §1), the phone's side: a port of
 * netbank.oath.activation (encodings, transcript, HKDF, MACs) and of
 * netbank.token_app.client.ActivationClient (the two rounds, the checks of §1.5 and the
 * retry rule). The 利用開始パスワード never leaves the phone: only a MAC keyed from the
 * X25519 exchange does, and only after the bank's signed answer has passed every check.
 */

import { FormatError, b64urlDecode, b64urlEncode, bytesEqual, concat, utf8 } from "./bytes.js";
import { hmac } from "./oath.js";

export const PROTOCOL = "netbank-activation/1";
export const START_PATH = "/api/v1/activation/start";
export const FINISH_PATH = "/api/v1/activation/finish";
const SEED_BYTES = { SHA1: 20, SHA256: 32, SHA512: 64 };
const FIELD_NAMES = ["transcript_id", "service_id", "user_id", "app_public_key", "server_public_key",
  "algorithm", "digits", "period", "server_time", "expires_at"];
const MAX_TIME = 2 ** 40;
const MAX_ANSWER_BYTES = 64 * 1024;
// Domain separation, byte for byte as the bank's (netbank.oath.activation).
const SIGNATURE_CONTEXT = utf8(PROTOCOL + " server-answer\0");
const LABEL = { confirm: "confirmation-key\0", seed: "otp-seed\0", signing: "signing-key\0",
  proof: "client-proof\0", server: "server-confirmation\0" };
const SERVICE_ID_RE = /^[A-Za-z0-9_-]{1,32}$/;
const USER_ID_RE = /^[0-9]{12}$/;
// Python's str.strip() whitespace (str.isspace), so " ４８２９\u3000" reads as the bank reads it.
const PY_SPACE = "[\\t-\\r\\x1c-\\x20\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]";
const STRIP_RE = new RegExp(`^${PY_SPACE}+|${PY_SPACE}+$`, "g");
const strip = (text) => text.replace(STRIP_RE, "");
// Full-width digits ０-９, which phone keyboards in Japanese mode type, are the same digits.
const halfWidth = (text) => text.replace(/[０-９]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 0xfee0));

/** Activation did not complete. `message` is Japanese, `messageEn` English. */
export class ActivationError extends Error {
  constructor(message, messageEn = "") {
    super(message);
    this.name = this.constructor.name;
    this.messageEn = messageEn || message;
  }
}

/** What the customer typed cannot be right (format only; nothing was sent). */
export class InvalidInputError extends ActivationError {
  constructor(field, detail = "") {
    super("サービスID、ユーザID、利用開始パスワードの形式が正しくありません。", `Check what you typed: ${detail || field}`);
    this.field = field;
  }
}

/** The bank answered with an error (`code`, e.g. "activation_failed"). */
export class ActivationRefusedError extends ActivationError {
  constructor(code, message, messageEn, status) {
    super(message, messageEn);
    this.code = code;
    this.status = status;
  }
}

/** The answer is not the bank's for this request: unsigned, wrongly signed, changed,
 * made for another request, or its confirmation does not match. Nothing is kept. */
export class UntrustedAnswerError extends ActivationError {}

/** The bank could not be reached, or answered with something that is not the API. */
export class TransportError extends ActivationError {}

const MALFORMED = "銀行からの応答が正しくありません。";

/** The 利用開始パスワード as the ASCII digits both sides MAC (4–8 digits, full-width read as ASCII). */
export function normalisePassword(text) {
  const digits = typeof text === "string" ? halfWidth(strip(text)) : "";
  if (!/^[0-9]{4,8}$/.test(digits)) throw new InvalidInputError("password", "the activation password is 4 to 8 digits");
  return digits;
}

/** JSON.parse that keeps only integer literals as numbers: "6.0" or "6e0" become NaN, as
 * Python's json gives a float there that the protocol's integer checks refuse. */
export function parseJson(text) {
  return JSON.parse(text, (_key, value, context) =>
    typeof value === "number" && context && !/^-?(?:0|[1-9][0-9]*)$/.test(context.source) ? NaN : value);
}

const isInt = (v, low, high) => typeof v === "number" && Number.isInteger(v) && v >= low && v <= high;

/** Throws FormatError unless `t` is a transcript the bank could have made (Transcript.__post_init__). */
function checkTranscript(t) {
  const fail = (m) => { throw new FormatError(m); };
  if (!(t.transcriptId instanceof Uint8Array) || t.transcriptId.length !== 16) fail("transcript_id must be 16 bytes");
  if (typeof t.serviceId !== "string" || !SERVICE_ID_RE.test(t.serviceId)) fail("service_id must be 1-32 letters, digits, '-' or '_'");
  if (typeof t.userId !== "string" || !USER_ID_RE.test(t.userId)) fail("user_id must be 12 digits");
  for (const k of ["appPublicKey", "serverPublicKey"]) {
    if (!(t[k] instanceof Uint8Array) || t[k].length !== 32) fail(`${k} must be 32 bytes`);
  }
  if (!Object.hasOwn(SEED_BYTES, t.algorithm)) fail("algorithm must be SHA1, SHA256 or SHA512");
  if (!isInt(t.digits, 6, 8)) fail("digits must be 6, 7 or 8");
  if (!isInt(t.period, 10, 300)) fail("period must be an integer from 10 to 300");
  if (!isInt(t.serverTime, 0, MAX_TIME)) fail(`server_time must be an integer from 0 to ${MAX_TIME}`);
  if (!isInt(t.expiresAt, 0, MAX_TIME)) fail(`expires_at must be an integer from 0 to ${MAX_TIME}`);
}

/** The canonical transcript (§1.4): protocol name, then each field's name and value, each
 * with a 4-byte big-endian length; what the bank signs and what HKDF binds the keys to. */
export function encodeTranscript(t) {
  checkTranscript(t);
  const lp = (bytes) => {
    const out = new Uint8Array(4 + bytes.length);
    new DataView(out.buffer).setUint32(0, bytes.length);
    out.set(bytes, 4);
    return out;
  };
  const values = [t.transcriptId, utf8(t.serviceId), utf8(t.userId), t.appPublicKey, t.serverPublicKey,
    utf8(t.algorithm), ...[t.digits, t.period, t.serverTime, t.expiresAt].map((n) => utf8(String(n)))];
  return concat(lp(utf8(PROTOCOL)), ...FIELD_NAMES.flatMap((name, i) => [lp(utf8(name)), lp(values[i])]));
}

/**
 * Parse the bank's round-one answer (text or parsed JSON) strictly, like
 * Transcript.from_json: every field present and well-formed. Returns
 * `{transcript, signature}` (signature null when the answer carries none, which
 * verifyAnswer refuses); anything malformed is an UntrustedAnswerError.
 */
export function parseAnswer(json) {
  try {
    const data = typeof json === "string" ? parseJson(json) : json;
    if (typeof data !== "object" || data === null || Array.isArray(data)) throw new FormatError("the answer must be a JSON object");
    if (data.protocol !== PROTOCOL) throw new FormatError(`the answer is not ${PROTOCOL}`);
    const key = (name) => b64urlDecode(data[name], 32, name);
    const transcript = {
      transcriptId: b64urlDecode(data.transcript_id, 16, "transcript_id"),
      serviceId: data.service_id,
      userId: data.user_id,
      appPublicKey: key("app_public_key"),
      serverPublicKey: key("server_public_key"),
      algorithm: data.algorithm,
      digits: data.digits,
      period: data.period,
      serverTime: data.server_time,
      expiresAt: data.expires_at,
    };
    checkTranscript(transcript);
    const raw = data.signature;
    const signature = raw === undefined || raw === null || raw === "" ? null : b64urlDecode(raw, 64, "signature");
    return { transcript, signature };
  } catch (error) {
    throw new UntrustedAnswerError(MALFORMED, `Malformed server answer: ${error.message}`);
  }
}

/** The bank keys as CryptoKeys: base64url text, 32 raw bytes, {publicKey} entries of
 * installconfig.keysAt, or CryptoKeys. A malformed key is a FormatError. */
export async function importBankKeys(trustedKeys) {
  const list = Array.isArray(trustedKeys) ? trustedKeys : [trustedKeys];
  if (!list.length) throw new FormatError("the install configuration must name at least one bank public key", "trustedKeys");
  return Promise.all(list.map((k) => {
    if (k instanceof CryptoKey) return k;
    const raw = k instanceof Uint8Array ? k : b64urlDecode(typeof k === "string" ? k : k?.publicKey, 32, "bank public key");
    if (raw.length !== 32) throw new FormatError("an Ed25519 public key is 32 bytes", "trustedKeys");
    return crypto.subtle.importKey("raw", raw, { name: "Ed25519" }, false, ["verify"]);
  }));
}

/** Resolves when one of the trusted bank keys signed this transcript; else UntrustedAnswerError. */
export async function verifyAnswer(trustedKeys, transcript, signature) {
  const untrusted = (why) => new UntrustedAnswerError(
    "銀行からの応答を確認できませんでした。正規のアプリと接続先であることをご確認ください。", why);
  if (!signature) throw untrusted("the server answer is not signed");
  const message = concat(SIGNATURE_CONTEXT, encodeTranscript(transcript));
  for (const key of await importBankKeys(trustedKeys)) {
    if (await crypto.subtle.verify({ name: "Ed25519" }, key, signature, message)) return;
  }
  throw untrusted("the server answer is not signed by the bank's key");
}

/** X25519(private, peer); a peer key of small order (all-zero secret) is refused. */
export async function x25519SharedSecret(privateKey, peerPublic) {
  let shared = new Uint8Array(32);
  try {
    const peer = await crypto.subtle.importKey("raw", peerPublic, { name: "X25519" }, false, []);
    shared = new Uint8Array(await crypto.subtle.deriveBits({ name: "X25519", public: peer }, privateKey, 256));
  } catch {
    // Chromium refuses a small-order key itself; the all-zero check below is the rule.
  }
  if (shared.every((b) => b === 0)) throw new UntrustedAnswerError(MALFORMED, "the peer's X25519 public key is not usable");
  return shared;
}

/** HKDF-SHA256(salt = protocol name, IKM = X25519 secret, info = label ‖ transcript) (§1.6). */
export async function deriveKeys(sharedSecret, transcript) {
  const ikm = await crypto.subtle.importKey("raw", sharedSecret, "HKDF", false, ["deriveBits"]);
  const encoded = encodeTranscript(transcript);
  const derive = async (label, length) => new Uint8Array(await crypto.subtle.deriveBits(
    { name: "HKDF", hash: "SHA-256", salt: utf8(PROTOCOL), info: concat(utf8(label), encoded) }, ikm, length * 8));
  return {
    confirmationKey: await derive(LABEL.confirm, 32),
    seed: await derive(LABEL.seed, SEED_BYTES[transcript.algorithm]),
    signingKey: await derive(LABEL.signing, 32),
  };
}

const passwordBytes = (password) => (typeof password === "string" ? utf8(password) : password);

/** The app's proof: HMAC-SHA256(K_confirm, "client-proof\0" ‖ T ‖ password). */
export function clientProof(confirmationKey, transcript, password) {
  return hmac("SHA256", confirmationKey, concat(utf8(LABEL.proof), encodeTranscript(transcript), passwordBytes(password)));
}

/** The bank's answer: HMAC-SHA256(K_confirm, "server-confirmation\0" ‖ T ‖ password). */
export function serverConfirmation(confirmationKey, transcript, password) {
  return hmac("SHA256", confirmationKey, concat(utf8(LABEL.server), encodeTranscript(transcript), passwordBytes(password)));
}

/** The bank URL without trailing "/": https, or plain http only to this machine (the demo). */
function checkBankUrl(bankUrl) {
  let url;
  try {
    url = new URL(bankUrl);
  } catch {
    throw new InvalidInputError("bankUrl", "the bank URL must be an https:// URL");
  }
  const loopback = url.hostname === "localhost" || url.hostname === "[::1]" || /^127\.[0-9.]+$/.test(url.hostname);
  if (!(url.protocol === "https:" || (url.protocol === "http:" && loopback)) || !url.hostname) {
    throw new InvalidInputError("bankUrl", "the bank URL must use https://");
  }
  return bankUrl.replace(/\/+$/, "");
}

/** The answer as an object, or the bank's refusal / a TransportError (ActivationClient._parse). */
function parseResponse(status, raw) {
  if (raw.length > MAX_ANSWER_BYTES) throw new TransportError(MALFORMED, "The answer is too large.");
  let data;
  try {
    data = parseJson(new TextDecoder("utf-8", { fatal: true }).decode(raw));
  } catch {
    throw new TransportError(MALFORMED, `The answer (HTTP ${status}) is not JSON.`);
  }
  if (typeof data !== "object" || data === null || Array.isArray(data)) throw new TransportError(MALFORMED, "The answer is not an object.");
  if (status !== 200) {
    const error = data.error;
    if (typeof error !== "object" || error === null || typeof error.code !== "string") {
      throw new TransportError(MALFORMED, `Unexpected answer (HTTP ${status}).`);
    }
    const text = (v) => (v ? String(v) : "");
    throw new ActivationRefusedError(error.code, text(error.message), text(error.message_en) || text(error.message), status);
  }
  return data;
}

/**
 * POST JSON; the very same body is sent again after a network error or a 5xx (the bank
 * answers a resent round two idempotently and does not count a resent wrong proof),
 * waiting 1 s, then 2 s. No redirects: an API answer is never one.
 */
async function post(options, path, payload) {
  const { send, base, attempts, retryDelay } = options;
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
    } catch (error) {
      last = error.message;
      continue;
    }
    if (response.status >= 500) {
      last = `HTTP ${response.status}`;
      continue;
    }
    if (response.type === "opaqueredirect") throw new TransportError(MALFORMED, "The answer is a redirect.");
    return parseResponse(response.status, raw);
  }
  throw new TransportError("銀行に接続できませんでした。通信環境の良い場所で、もう一度お試しください。",
    `Could not reach the bank (${last}). Please try again where the connection is good.`);
}

/**
 * Set up a token (ActivationClient.activate). Returns `{seed, signingKey, algorithm,
 * digits, period, serverTimeOffset, serviceId, userId}`; `serverTimeOffset` is bank time
 * − phone time in seconds at the midpoint of round one. `fetch`, `attempts`,
 * `retryDelay` (ms) and `clock` (ms) are for tests. Throws InvalidInputError,
 * ActivationRefusedError, UntrustedAnswerError or TransportError.
 */
export async function activate({ bankUrl, serviceId, userId, password, trustedKeys, fetch: send = globalThis.fetch.bind(globalThis),
  attempts = 3, retryDelay = 1000, clock = Date.now }) {
  const base = checkBankUrl(bankUrl);
  const bankKeys = await importBankKeys(trustedKeys);
  serviceId = typeof serviceId === "string" ? strip(serviceId) : "";
  if (!SERVICE_ID_RE.test(serviceId)) throw new InvalidInputError("serviceId", "service_id must be 1-32 letters, digits, '-' or '_'");
  userId = typeof userId === "string" ? halfWidth(strip(userId)) : "";
  if (!USER_ID_RE.test(userId)) throw new InvalidInputError("userId", "user_id must be 12 digits");
  const digits = normalisePassword(password);
  const options = { send, base, attempts: Math.max(1, attempts), retryDelay };

  const pair = await crypto.subtle.generateKey({ name: "X25519" }, false, ["deriveBits"]);
  const appPublic = new Uint8Array(await crypto.subtle.exportKey("raw", pair.publicKey));
  const sentAt = clock();
  const answer = await post(options, START_PATH, { service_id: serviceId, user_id: userId, app_public_key: b64urlEncode(appPublic) });
  const receivedAt = clock();
  const { transcript, signature } = parseAnswer(answer);
  await verifyAnswer(bankKeys, transcript, signature);
  // A signed answer for someone else's request (another app key or ユーザID) is a replay or a relay.
  if (transcript.serviceId !== serviceId || transcript.userId !== userId || !bytesEqual(transcript.appPublicKey, appPublic)) {
    throw new UntrustedAnswerError("銀行からの応答が、この端末の要求と一致しません。", "The signed answer was made for a different request.");
  }
  const keys = await deriveKeys(await x25519SharedSecret(pair.privateKey, transcript.serverPublicKey), transcript);
  const transcriptId = b64urlEncode(transcript.transcriptId);
  const proof = await clientProof(keys.confirmationKey, transcript, digits);
  const result = await post(options, FINISH_PATH, { transcript_id: transcriptId, proof: b64urlEncode(proof) });
  let confirmation;
  try {
    confirmation = b64urlDecode(result.server_confirmation, 32, "server_confirmation");
  } catch (error) {
    throw new UntrustedAnswerError(MALFORMED, error.message);
  }
  const expected = await serverConfirmation(keys.confirmationKey, transcript, digits);
  if (result.transcript_id !== transcriptId || !bytesEqual(confirmation, expected)) {
    throw new UntrustedAnswerError("銀行からの確認を検証できませんでした。", "The bank's confirmation does not match this activation.");
  }
  return {
    seed: keys.seed, signingKey: keys.signingKey, algorithm: transcript.algorithm, digits: transcript.digits,
    period: transcript.period, serverTimeOffset: transcript.serverTime - (sentAt + receivedAt) / 2000, serviceId, userId,
  };
}
