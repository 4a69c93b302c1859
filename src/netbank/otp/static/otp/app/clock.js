// The bank's clock as the app knows it. TOTP codes are only accepted within a window of the
// bank's time, so the app measures how far the phone's clock is from the bank's (the Date
// header of an answer fetched from the network) and warns when it is more than 15 s.
export const DRIFT_LIMIT_SECONDS = 15;

let offset = 0; // seconds, bank − phone; the vault keeps the last one for offline use
let measured = false;

export function setOffset(seconds) {
  offset = Number.isFinite(seconds) ? seconds : 0;
}

export function currentOffset() {
  return offset;
}

export function wasMeasured() {
  return measured;
}

// Now on the bank's clock, in seconds (float). `phoneMs` is injectable for tests.
export function bankNow(phoneMs = Date.now()) {
  return phoneMs / 1000 + offset;
}

// The offset from one answer: Date has whole seconds and is written while the answer is
// made, so it stands for the middle of that second, compared to the middle of the request.
export function offsetFrom(dateHeader, sentMs, receivedMs) {
  const bankMs = Date.parse(dateHeader || "");
  if (!Number.isFinite(bankMs)) return null;
  return Math.round((bankMs + 500 - (sentMs + receivedMs) / 2) / 1000);
}

// Fetches `url` from the network (cache "no-store": the service worker then never answers
// with a stored copy, whose Date would be old). Returns {offset, response}; throws when
// offline. The offset becomes the app's.
export async function measure(url, fetcher = fetch) {
  const sent = Date.now();
  const response = await fetcher(url, { cache: "no-store", credentials: "omit" });
  const seconds = offsetFrom(response.headers.get("Date"), sent, Date.now());
  if (seconds !== null) {
    offset = seconds;
    measured = true;
  }
  return { offset: seconds, response };
}

// The warning text's key and seconds, or null when the clocks agree well enough.
export function driftWarning(seconds = offset) {
  if (Math.abs(seconds) <= DRIFT_LIMIT_SECONDS) return null;
  // Bank ahead of the phone means the phone is slow.
  return { key: seconds > 0 ? "clock_slow" : "clock_fast", seconds: Math.abs(seconds) };
}
