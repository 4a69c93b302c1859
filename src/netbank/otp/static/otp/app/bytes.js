// Byte and input helpers of the protocol modules (docs/protocols.md §1.2).

// An Error subclass `name`, built with (message, ...values of `fields`).
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

export const FormatError = errorClass("FormatError", ["field"]);

const encoder = new TextEncoder();
export const SERVICE_ID_RE = /^[A-Za-z0-9_-]{1,32}$/;

export const utf8 = (text) => encoder.encode(text);
export const random = (n) => crypto.getRandomValues(new Uint8Array(n));
// HKDF-SHA-256 of `ikm` (bytes), `bits` long.
export async function hkdf(ikm, salt, info, bits = 256) {
  const key = await crypto.subtle.importKey("raw", ikm, "HKDF", false, ["deriveBits"]);
  return new Uint8Array(await crypto.subtle.deriveBits({ name: "HKDF", hash: "SHA-256", salt, info }, key, bits));
}
export const parseUrl = (text) => { try { return new URL(text); } catch { return null; } };
export const isObject = (value) => typeof value === "object" && value !== null && !Array.isArray(value);
// Full-width digits ０-９ (a Japanese keyboard's) are the same digits.
export const halfWidth = (text) => text.replace(/[０-９]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 0xfee0));

export const concat = (...parts) => Uint8Array.from(parts.flatMap((part) => Array.from(part)));

export function b64urlEncode(bytes) {
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

// Strict like oath.activation.b64url_decode: one value, one spelling.
export function b64urlDecode(text, length, field = "value") {
  if (typeof text !== "string" || !/^[A-Za-z0-9_-]*$/.test(text)) throw new FormatError(`${field} must be base64url text`, field);
  let out = null;
  try {
    out = Uint8Array.from(atob(text.replace(/-/g, "+").replace(/_/g, "/")), (c) => c.charCodeAt(0));
  } catch {}
  if (!out || out.length !== length || b64urlEncode(out) !== text) throw new FormatError(`${field} must be ${length} bytes`, field);
  return out;
}

export const hex = (bytes) => Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");

export function fromHex(text) {
  if (!/^(?:[0-9a-fA-F]{2})*$/.test(text)) throw new FormatError("not hex", "hex");
  return Uint8Array.from(text.match(/../g) ?? [], (h) => parseInt(h, 16));
}

// Constant time: a MAC check does not tell how many leading bytes were right.
export function bytesEqual(a, b) {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}
