/**
 * HOTP (RFC 4226), TOTP (RFC 6238) and OCRA (RFC 6287) on WebCrypto: a port of
 * netbank.oath.hotp/totp/ocra with the same rules and refusals, so the phone computes
 * exactly the codes the bank checks. Keys are Uint8Array; every function is async
 * because WebCrypto is.
 */

import { concat, fromHex, utf8 } from "./bytes.js";

/** Malformed OATH input (bad key, digits, algorithm, counter, suite or challenge). */
export class OathError extends Error {
  constructor(message) {
    super(message);
    this.name = "OathError";
  }
}

const HASHES = { SHA1: "SHA-1", SHA256: "SHA-256", SHA512: "SHA-512" };
const MAX_COUNTER = (1n << 64n) - 1n;
const MIN_KEY_BYTES = 16; // 128 bits, RFC 4226 R6

/** "sha-256", "SHA256" … → "SHA256"; anything else is an OathError. */
export function normalizeAlgorithm(name) {
  const canonical = typeof name === "string" ? name.trim().toUpperCase().replaceAll("-", "") : "";
  if (!(canonical in HASHES)) throw new OathError(`unknown algorithm ${name}; use SHA1, SHA256 or SHA512`);
  return canonical;
}

function checkKey(key) {
  if (!(key instanceof Uint8Array)) throw new OathError("key must be bytes");
  if (key.length < MIN_KEY_BYTES) {
    throw new OathError(`key must be at least 128 bits (16 bytes); got ${key.length * 8} bits`);
  }
}

/** An 8-byte big-endian unsigned integer (counter or time step); numbers or BigInts. */
function uint64(value, name) {
  if (typeof value === "number" ? !Number.isSafeInteger(value) : typeof value !== "bigint") {
    throw new OathError(`${name} must be an integer`);
  }
  const n = BigInt(value);
  if (n < 0n || n > MAX_COUNTER) throw new OathError(`${name} must be between 0 and 2**64 - 1`);
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, n);
  return out;
}

/** HMAC of `message` under `key` with one of SHA1/SHA256/SHA512. */
export async function hmac(algorithm, key, message) {
  const hash = HASHES[normalizeAlgorithm(algorithm)];
  const k = await crypto.subtle.importKey("raw", key, { name: "HMAC", hash }, false, ["sign"]);
  return new Uint8Array(await crypto.subtle.sign("HMAC", k, message));
}

/** RFC 4226 §5.3: 31 bits at the offset named by the last nibble, as `digits` digits. */
function truncate(mac, digits) {
  const o = mac[mac.length - 1] & 0x0f;
  const value = ((mac[o] & 0x7f) << 24) | (mac[o + 1] << 16) | (mac[o + 2] << 8) | mac[o + 3];
  return String(value % 10 ** digits).padStart(digits, "0");
}

/** The HOTP value for `counter` as a zero-padded string of 6–8 digits. */
export async function hotp(key, counter, { algorithm = "SHA1", digits = 6 } = {}) {
  checkKey(key);
  if (![6, 7, 8].includes(digits)) throw new OathError(`digits must be 6 to 8; got ${digits}`);
  return truncate(await hmac(algorithm, key, uint64(counter, "counter")), digits);
}

/** RFC 6238 T = floor((t − T0) / period); a time before T0 is an error. */
export function timeStep(unixSeconds, { period = 30, t0 = 0 } = {}) {
  if (!Number.isSafeInteger(period) || period <= 0) {
    throw new OathError(`period must be a positive whole number of seconds; got ${period}`);
  }
  if (typeof unixSeconds !== "number" || !Number.isFinite(unixSeconds)) {
    throw new OathError("timestamp must be a finite number");
  }
  if (unixSeconds < t0) throw new OathError("timestamp is before T0");
  return Math.floor((unixSeconds - t0) / period);
}

/** The TOTP value at `unixSeconds` (the bank's clock: phone clock + learned offset). */
export async function totp(key, unixSeconds, { algorithm = "SHA1", digits = 6, period = 30, t0 = 0 } = {}) {
  return hotp(key, timeStep(unixSeconds, { period, t0 }), { algorithm, digits });
}

/** Seconds the code for `unixSeconds` stays current (the app's countdown ring). */
export function secondsRemaining(unixSeconds, { period = 30, t0 = 0 } = {}) {
  return t0 + (timeStep(unixSeconds, { period, t0 }) + 1) * period - unixSeconds;
}

// --- OCRA (RFC 6287) ---------------------------------------------------------------

const UNIT = { S: [1, 59], M: [60, 59], H: [3600, 48] };
const PASSWORD_BYTES = { SHA1: 20, SHA256: 32, SHA512: 64 };

/**
 * Parse `OCRA-1:HOTP-<hash>-<digits>:[C-]Q<A|N|H><nn>[-P<hash>][-S<nnn>][-T<n><S|M|H>]`
 * exactly like netbank.oath.ocra.parse_suite; anything RFC 6287 does not define is refused.
 */
export function parseSuite(text) {
  if (typeof text !== "string" || !/^[\x00-\x7f]*$/.test(text)) throw new OathError("an OCRA suite must be ASCII text");
  const parts = text.split(":");
  if (parts.length !== 3) throw new OathError(`OCRA suite ${text} must have three parts`);
  const [version, cryptoFunction, dataInput] = parts;
  if (version !== "OCRA-1") throw new OathError(`unsupported OCRA version ${version}; only OCRA-1 exists`);
  const cf = /^HOTP-(SHA1|SHA256|SHA512)-([0-9]{1,2})$/.exec(cryptoFunction);
  if (!cf) throw new OathError(`crypto function ${cryptoFunction} must be HOTP-SHA1, HOTP-SHA256 or HOTP-SHA512 followed by -<digits>`);
  const digits = Number(cf[2]);
  if (cf[2] !== String(digits)) throw new OathError("write the digits without a leading zero");
  if (digits === 0) throw new OathError("truncation 0 (the full HMAC) is not supported; use 4 to 10 digits");
  if (digits < 4 || digits > 10) throw new OathError(`an OCRA response has 4 to 10 digits; got ${digits}`);

  const fields = dataInput.split("-");
  const suite = { text, algorithm: cf[1], digits, counter: false, passwordAlgorithm: null, sessionLength: null, timeStep: null };
  if (fields[0] === "C") {
    suite.counter = true;
    fields.shift();
  }
  const q = /^Q([ANH])([0-9]{2})$/.exec(fields.shift() ?? "");
  if (!q) throw new OathError("the data input must be [C-]Q<A|N|H><nn>[-P<hash>][-S<nnn>][-T<n><S|M|H>] in that order");
  suite.questionFormat = q[1];
  suite.questionLength = Number(q[2]);
  if (suite.questionLength < 4 || suite.questionLength > 64) throw new OathError(`the challenge length must be 04 to 64; got ${q[2]}`);
  let m;
  if (fields.length && (m = /^P(SHA1|SHA256|SHA512)$/.exec(fields[0]))) {
    suite.passwordAlgorithm = m[1];
    fields.shift();
  }
  if (fields.length && (m = /^S([0-9]{3})$/.exec(fields[0]))) {
    suite.sessionLength = Number(m[1]);
    if (suite.sessionLength === 0) throw new OathError("session information length S000 is empty; leave S out instead");
    fields.shift();
  }
  if (fields.length && (m = /^T([0-9]{1,2})([SMH])$/.exec(fields[0]))) {
    const [seconds, max] = UNIT[m[2]];
    const amount = Number(m[1]);
    if (amount < 1 || amount > max) throw new OathError(`time step T${m[1]}${m[2]}: use 1–${max}${m[2]}`);
    suite.timeStep = amount * seconds;
    fields.shift();
  }
  if (fields.length) throw new OathError(`unexpected data input ${fields[0]}: the order is [C-]Q..[-P..][-S..][-T..], each at most once`);
  return suite;
}

/** The 128-byte Q field: QN as one decimal number in hex, QA as ASCII, QH as is; right-padded. */
export function encodeQuestion(suite, question) {
  const s = typeof suite === "string" ? parseSuite(suite) : suite;
  if (typeof question !== "string" || !/^[\x00-\x7f]*$/.test(question)) throw new OathError("the challenge question must be ASCII text");
  if (question.length < 4) throw new OathError("the challenge question must have at least 4 characters");
  if (question.length > 2 * 128 + 64) throw new OathError("the challenge question does not fit in 128 bytes");
  let hexDigits;
  if (s.questionFormat === "N") {
    if (!/^[0-9]+$/.test(question)) throw new OathError("a numeric (QN) challenge may contain only the digits 0–9");
    hexDigits = BigInt(question).toString(16).toUpperCase();
  } else if (s.questionFormat === "H") {
    if (!/^[0-9A-Fa-f]+$/.test(question)) throw new OathError("a hexadecimal (QH) challenge may contain only 0–9 and A–F");
    hexDigits = question;
  } else {
    if (!/^[0-9A-Za-z]+$/.test(question)) throw new OathError("an alphanumeric (QA) challenge may contain only A–Z, a–z and 0–9");
    hexDigits = Array.from(question, (c) => c.charCodeAt(0).toString(16).padStart(2, "0")).join("");
  }
  if (hexDigits.length > 256) throw new OathError("the challenge question does not fit in 128 bytes");
  return fromHex(hexDigits.padEnd(256, "0")); // right-padded with hex zeros, as the RFC's reference code
}

/**
 * The OCRA response. Each input must be given exactly when the suite names it:
 * `counter` (C), `question` (Q), `password` (P: the PIN text, hashed here with the
 * suite's hash, or its hash as bytes), `session` (S: exactly nnn bytes), `timestamp`
 * (T: the number of time steps since the epoch, see ocraTimestamp). A missing or an
 * extra input is an error rather than a silently different response.
 */
export async function ocra(suite, key, { question, counter, password, session, timestamp } = {}) {
  const s = typeof suite === "string" ? parseSuite(suite) : suite;
  checkKey(key);
  const given = (value, wanted, what) => {
    const present = value !== undefined && value !== null;
    if (present !== Boolean(wanted)) throw new OathError(`suite ${s.text} ${wanted ? "needs" : "has no"} ${what}`);
    return present;
  };
  const parts = [utf8(s.text), new Uint8Array(1)];
  if (given(counter, s.counter, "counter (C)")) parts.push(uint64(counter, "counter"));
  parts.push(encodeQuestion(s, question));
  if (given(password, s.passwordAlgorithm, "password (P)")) {
    const size = PASSWORD_BYTES[s.passwordAlgorithm];
    const digest = typeof password === "string"
      ? new Uint8Array(await crypto.subtle.digest(HASHES[s.passwordAlgorithm], utf8(password))) : password;
    if (!(digest instanceof Uint8Array) || digest.length !== size) throw new OathError(`the password hash must be ${size} bytes`);
    parts.push(digest);
  }
  if (given(session, s.sessionLength, "session information (S)")) {
    if (!(session instanceof Uint8Array) || session.length !== s.sessionLength) {
      throw new OathError(`session information must be exactly ${s.sessionLength} bytes`);
    }
    parts.push(session);
  }
  if (given(timestamp, s.timeStep, "timestamp (T)")) parts.push(uint64(timestamp, "the timestamp"));
  return truncate(await hmac(s.algorithm, key, concat(...parts)), s.digits);
}

/** The T input at `unixSeconds`: whole time steps of the suite's size since the epoch. */
export function ocraTimestamp(suite, unixSeconds) {
  const s = typeof suite === "string" ? parseSuite(suite) : suite;
  if (!s.timeStep) throw new OathError(`suite ${s.text} has no timestamp (T)`);
  if (typeof unixSeconds !== "number" || !Number.isFinite(unixSeconds)) throw new OathError("the time must be a finite number");
  if (unixSeconds < 0) throw new OathError("the time must not be before 1970");
  return Math.floor(unixSeconds / s.timeStep);
}
