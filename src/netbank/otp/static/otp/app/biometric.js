// A platform passkey's PRF output (user verified, this site only) wraps the vault's key.
import { random } from "./bytes.js";
import { BiometricError, VaultError, prfCredential, setPrf, unlockWithPrf } from "./vault.js";

// Whether the authenticator itself does PRF is only known from create()'s results.
export async function prfSupported() {
  const PKC = globalThis.PublicKeyCredential;
  if (!PKC || !globalThis.isSecureContext || !navigator.credentials) return false;
  try {
    const caps = (await PKC.getClientCapabilities?.()) ?? {};
    if (caps["extension:prf"] === false || caps.userVerifyingPlatformAuthenticator === false) return false;
    return await PKC.isUserVerifyingPlatformAuthenticatorAvailable();
  } catch {
    return false;
  }
}

// The UV flag (authenticatorData flags, bit 2): the user was verified, not only present.
function userVerified(response) {
  const data = new Uint8Array(response.authenticatorData ?? response.getAuthenticatorData?.() ?? []);
  return data.length > 32 && (data[32] & 0x04) !== 0;
}

function refused(error) {
  if (error instanceof VaultError) return error;
  const cancelled = error?.name === "NotAllowedError" || error?.name === "AbortError";
  return new BiometricError(`biometric check failed: ${error?.name ?? error}`, cancelled ? "biometric_cancelled" : "biometric_refused");
}

const prfAsk = (salt) => ({ timeout: 60_000, extensions: { prf: { eval: { first: salt } } } });

async function assertion(credentialId, salt) {
  const cred = await navigator.credentials.get({
    publicKey: {
      challenge: random(32), // nothing is sent anywhere: the PRF output is the point
      rpId: location.hostname,
      allowCredentials: [{ type: "public-key", id: credentialId }],
      userVerification: "required",
      ...prfAsk(salt),
    },
  });
  const first = cred?.getClientExtensionResults().prf?.results?.first;
  if (!first || !userVerified(cred.response)) throw new BiometricError("no verified PRF answer", "biometric_refused");
  return new Uint8Array(first);
}

export async function enrolBiometric(handle) {
  if (!(await prfSupported())) throw new BiometricError("no biometric unlock on this device", "biometric_unsupported");
  const salt = random(32);
  try {
    const cred = await navigator.credentials.create({
      publicKey: {
        rp: { id: location.hostname, name: "NetBank OTP" },
        user: { id: random(16), name: "NetBank OTP", displayName: "ワンタイムパスワード" },
        challenge: random(32),
        pubKeyCredParams: [{ type: "public-key", alg: -7 }, { type: "public-key", alg: -257 }],
        authenticatorSelection: { authenticatorAttachment: "platform", residentKey: "preferred", userVerification: "required" },
        attestation: "none",
        ...prfAsk(salt),
      },
    });
    const prf = cred.getClientExtensionResults().prf;
    if (!prf?.enabled && !prf?.results) throw new BiometricError("the authenticator has no PRF", "biometric_unsupported");
    const credentialId = new Uint8Array(cred.rawId);
    // Some authenticators evaluate the PRF only on get().
    const output = prf.results?.first ? new Uint8Array(prf.results.first) : await assertion(credentialId, salt);
    await setPrf(handle, output, credentialId, salt);
  } catch (error) {
    throw refused(error);
  }
}

export async function unlockWithBiometric() {
  const { credentialId, salt } = await prfCredential();
  let output;
  try {
    output = await assertion(credentialId, salt);
  } catch (error) {
    throw refused(error);
  }
  return unlockWithPrf(output);
}
