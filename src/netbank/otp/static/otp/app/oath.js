// HOTP, TOTP and OCRA (RFCs 4226, 6238, 6287) with netbank.oath's refusals. Keys are Uint8Array.

import { concat, errorClass, fromHex, hex, utf8 } from "./bytes.js";

export const OathError = errorClass("OathError");
const refuse = (message) => { throw new OathError(message); };

const HASHES = { SHA1: "SHA-1", SHA256: "SHA-256", SHA512: "SHA-512" };
export const HASH_BYTES = { SHA1: 20, SHA256: 32, SHA512: 64 };

function checkKey(key) {
  if (!(key instanceof Uint8Array)) refuse("key must be bytes");
  if (key.length < 16) refuse("key must be at least 128 bits");
}

function uint64(value, name) {
  if (typeof value === "number" ? !Number.isSafeInteger(value) : typeof value !== "bigint") {
    refuse(`${name} must be an integer`);
  }
  const n = BigInt(value);
  if (BigInt.asUintN(64, n) !== n) refuse(`${name} must be between 0 and 2**64 - 1`);
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, n);
  return out;
}

export async function hmac(algorithm, key, message) {
  const name = typeof algorithm === "string" ? algorithm.trim().toUpperCase().replaceAll("-", "") : "";
  if (!Object.hasOwn(HASHES, name)) refuse(`unknown algorithm ${algorithm}`);
  const k = await crypto.subtle.importKey("raw", key, { name: "HMAC", hash: HASHES[name] }, false, ["sign"]);
  return new Uint8Array(await crypto.subtle.sign("HMAC", k, message));
}

// RFC 4226 §5.3.
function truncate(mac, digits) {
  const o = mac[mac.length - 1] & 0x0f;
  const value = ((mac[o] & 0x7f) << 24) | (mac[o + 1] << 16) | (mac[o + 2] << 8) | mac[o + 3];
  return String(value % 10 ** digits).padStart(digits, "0");
}

export async function hotp(key, counter, { algorithm = "SHA1", digits = 6 } = {}) {
  checkKey(key);
  if (![6, 7, 8].includes(digits)) refuse(`digits must be 6 to 8; got ${digits}`);
  return truncate(await hmac(algorithm, key, uint64(counter, "counter")), digits);
}

export async function totp(key, unixSeconds, { algorithm = "SHA1", digits = 6, period = 30, t0 = 0 } = {}) {
  if (!Number.isSafeInteger(period) || period <= 0) refuse(`period must be a positive integer; got ${period}`);
  if (typeof unixSeconds !== "number" || !Number.isFinite(unixSeconds)) refuse("timestamp must be a finite number");
  if (unixSeconds < t0) refuse("timestamp is before T0");
  return hotp(key, Math.floor((unixSeconds - t0) / period), { algorithm, digits });
}

const UNIT = { S: [1, 59], M: [60, 59], H: [3600, 48] };
// The optional OCRA inputs, in the only order the RFC allows.
const OPTIONAL_INPUTS = [
  [/^P(SHA1|SHA256|SHA512)$/, (suite, hash) => { suite.passwordAlgorithm = hash; }],
  [/^S([0-9]{3})$/, (suite, length) => {
    if (length === "000") refuse("S000 is empty; leave S out");
    suite.sessionLength = Number(length);
  }],
  [/^T([0-9]{1,2})([SMH])$/, (suite, amount, unit) => {
    const [seconds, max] = UNIT[unit];
    if (Number(amount) < 1 || Number(amount) > max) refuse(`time step T${amount}${unit}: use 1–${max}${unit}`);
    suite.timeStep = Number(amount) * seconds;
  }],
];

// As netbank.oath.ocra.parse_suite: what RFC 6287 does not define is refused.
function parseSuite(text) {
  if (typeof text !== "string") refuse("an OCRA suite must be text");
  const parts = text.split(":");
  if (parts.length !== 3) refuse(`OCRA suite ${text} must have three parts`);
  const [version, cryptoFunction, dataInput] = parts;
  if (version !== "OCRA-1") refuse(`unsupported OCRA version ${version}; only OCRA-1 exists`);
  // No leading zero: one suite, one spelling.
  const cf = /^HOTP-(SHA1|SHA256|SHA512)-([1-9][0-9]?)$/.exec(cryptoFunction);
  if (!cf) refuse(`crypto function ${cryptoFunction} must be HOTP-<SHA1|SHA256|SHA512>-<digits>`);
  const digits = Number(cf[2]);
  if (digits < 4 || digits > 10) refuse(`an OCRA response has 4 to 10 digits; got ${digits}`);

  const fields = dataInput.split("-");
  const suite = { text, algorithm: cf[1], digits, counter: fields[0] === "C", passwordAlgorithm: null, sessionLength: null, timeStep: null };
  if (suite.counter) fields.shift();
  const q = /^Q([ANH])([0-9]{2})$/.exec(fields.shift() ?? "");
  if (!q) refuse("the data input must be [C-]Q<A|N|H><nn>[-P<hash>][-S<nnn>][-T<n><S|M|H>]");
  suite.questionFormat = q[1];
  suite.questionLength = Number(q[2]);
  if (suite.questionLength < 4 || suite.questionLength > 64) refuse(`the challenge length must be 04 to 64; got ${q[2]}`);
  for (const [pattern, apply] of OPTIONAL_INPUTS) {
    const m = fields.length ? pattern.exec(fields[0]) : null;
    if (m) {
      apply(suite, ...m.slice(1));
      fields.shift();
    }
  }
  if (fields.length) refuse(`unexpected data input ${fields[0]}`);
  return suite;
}

// Each pattern admits ASCII only, so no separate ASCII check.
const QUESTION_FORMATS = {
  N: [/^[0-9]+$/, "a QN challenge is digits", (q) => BigInt(q).toString(16)],
  H: [/^[0-9A-Fa-f]+$/, "a QH challenge is hex digits", (q) => q],
  A: [/^[0-9A-Za-z]+$/, "a QA challenge is letters and digits", (q) => hex(utf8(q))],
};

// The 128-byte Q field, right-padded with zeros.
function encodeQuestion(suite, question) {
  if (typeof question !== "string" || question.length < 4) refuse("the challenge question must be at least 4 characters");
  const tooLong = () => new OathError("the challenge question does not fit in 128 bytes");
  if (question.length > 2 * 128 + 64) throw tooLong(); // before BigInt sees it
  const [pattern, message, toHex] = QUESTION_FORMATS[suite.questionFormat];
  if (!pattern.test(question)) refuse(message);
  const hexDigits = toHex(question);
  if (hexDigits.length > 256) throw tooLong();
  return fromHex(hexDigits.padEnd(256, "0"));
}

// An input missing or extra for the suite is an error, never a silently different code.
// `password`: text or its hash; `timestamp`: time steps.
export async function ocra(suiteText, key, { question, counter, password, session, timestamp } = {}) {
  const s = parseSuite(suiteText);
  checkKey(key);
  const given = (value, wanted, what) => {
    const present = value !== undefined && value !== null;
    if (present !== Boolean(wanted)) refuse(`suite ${s.text} ${wanted ? "needs" : "has no"} ${what}`);
    return present;
  };
  const parts = [utf8(s.text), new Uint8Array(1)];
  if (given(counter, s.counter, "counter (C)")) parts.push(uint64(counter, "counter"));
  parts.push(encodeQuestion(s, question));
  if (given(password, s.passwordAlgorithm, "password (P)")) {
    const size = HASH_BYTES[s.passwordAlgorithm];
    const digest = typeof password === "string"
      ? new Uint8Array(await crypto.subtle.digest(HASHES[s.passwordAlgorithm], utf8(password))) : password;
    if (!(digest instanceof Uint8Array) || digest.length !== size) refuse(`the password hash must be ${size} bytes`);
    parts.push(digest);
  }
  if (given(session, s.sessionLength, "session information (S)")) {
    if (!(session instanceof Uint8Array) || session.length !== s.sessionLength) {
      refuse(`session information must be exactly ${s.sessionLength} bytes`);
    }
    parts.push(session);
  }
  if (given(timestamp, s.timeStep, "timestamp (T)")) parts.push(uint64(timestamp, "the timestamp"));
  return truncate(await hmac(s.algorithm, key, concat(...parts)), s.digits);
}
