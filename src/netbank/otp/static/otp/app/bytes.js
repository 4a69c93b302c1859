/**
 * Byte helpers shared by the app's protocol modules (docs/protocols.md §1.2).
 *
 * Every binary value on the wire is base64url without padding. The decoder is strict,
 * like netbank.oath.activation.b64url_decode: wrong alphabet, padding, wrong length or a
 * non-canonical last character (stray low bits) are refused, so one value has exactly one
 * spelling and a changed signature or key can never slip through as "the same bytes".
 */

/** Malformed input (a field that is not what the protocol says). */
export class FormatError extends Error {
  constructor(message, field = "") {
    super(message);
    this.name = "FormatError";
    this.field = field;
  }
}

const encoder = new TextEncoder();
const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const B64URL_RE = /^[A-Za-z0-9_-]*$/;

/** The UTF-8 bytes of a string. */
export function utf8(text) {
  return encoder.encode(text);
}

/** One Uint8Array of all the parts, in order. */
export function concat(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let pos = 0;
  for (const part of parts) {
    out.set(part, pos);
    pos += part.length;
  }
  return out;
}

/** Base64url without padding (RFC 4648 §5). */
export function b64urlEncode(bytes) {
  let text = "";
  for (let i = 0; i < bytes.length; i += 3) {
    const n = (bytes[i] << 16) | ((bytes[i + 1] ?? 0) << 8) | (bytes[i + 2] ?? 0);
    const chars = Math.min(4, Math.ceil(((bytes.length - i) * 8) / 6));
    for (let j = 0; j < chars; j++) text += ALPHABET[(n >> (18 - 6 * j)) & 63];
  }
  return text;
}

/**
 * Strictly decode one base64url field of exactly `length` bytes; throws FormatError
 * naming `field`. Canonical means re-encoding gives the same text back.
 */
export function b64urlDecode(text, length, field = "value") {
  if (typeof text !== "string" || !B64URL_RE.test(text) || text.length % 4 === 1) {
    throw new FormatError(`${field} must be base64url text`, field);
  }
  const out = new Uint8Array(Math.floor((text.length * 6) / 8));
  let bits = 0;
  let acc = 0;
  let pos = 0;
  for (const c of text) {
    acc = (acc << 6) | ALPHABET.indexOf(c);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[pos++] = (acc >> bits) & 0xff;
    }
    acc &= (1 << bits) - 1;
  }
  if (out.length !== length || b64urlEncode(out) !== text) {
    throw new FormatError(`${field} must be ${length} bytes`, field);
  }
  return out;
}

/** Lower-case hex of the bytes. */
export function hex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Bytes from hex text (tests and fixed constants only; not a wire format). */
export function fromHex(text) {
  if (!/^(?:[0-9a-fA-F]{2})*$/.test(text)) throw new FormatError("not hex", "hex");
  return Uint8Array.from(text.match(/../g) ?? [], (h) => parseInt(h, 16));
}

/**
 * Equal bytes, compared in constant time for equal lengths (XOR-accumulate), so the
 * time a MAC comparison takes does not say how many leading bytes were right.
 */
export function bytesEqual(a, b) {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}
