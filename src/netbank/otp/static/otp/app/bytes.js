/**
 * Byte and input helpers shared by the protocol modules (docs/protocols.md §1.2).
 * The base64url decoder is strict (like netbank.oath.activation.b64url_decode) so one
 * value has exactly one spelling: a changed key or signature never passes as "the same bytes".
 */

/** An Error subclass named `name` whose constructor takes (message, ...values of `fields`). */
export function errorClass(name, fields = [], Base = Error) {
  const named = {
    [name]: class extends Base {
      constructor(message, ...values) {
        super(message);
        this.name = new.target.name;
        fields.forEach((field, i) => { this[field] = values[i]; });
      }
    },
  };
  return named[name];
}

/** Malformed input (a field that is not what the protocol says). */
export const FormatError = errorClass("FormatError", ["field"]);

const encoder = new TextEncoder();
const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
export const SERVICE_ID_RE = /^[A-Za-z0-9_-]{1,32}$/;

export const utf8 = (text) => encoder.encode(text);
export const isObject = (value) => typeof value === "object" && value !== null && !Array.isArray(value);
// Full-width digits ０-９ (a Japanese keyboard's) are the same digits.
export const halfWidth = (text) => text.replace(/[０-９]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 0xfee0));

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

/** Exactly `length` bytes, canonical (re-encoding gives the same text); else FormatError naming `field`. */
export function b64urlDecode(text, length, field = "value") {
  if (typeof text !== "string" || !/^[A-Za-z0-9_-]*$/.test(text) || text.length % 4 === 1) {
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
  if (out.length !== length || b64urlEncode(out) !== text) throw new FormatError(`${field} must be ${length} bytes`, field);
  return out;
}

export const hex = (bytes) => Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");

/** Bytes from hex text (constants and tests; not a wire format). */
export function fromHex(text) {
  if (!/^(?:[0-9a-fA-F]{2})*$/.test(text)) throw new FormatError("not hex", "hex");
  return Uint8Array.from(text.match(/../g) ?? [], (h) => parseInt(h, 16));
}

/** Constant time for equal lengths, so a MAC check does not tell how many leading bytes were right. */
export function bytesEqual(a, b) {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}
