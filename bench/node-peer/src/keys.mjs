// The deployment's keys, read as shared/services/src/keyring.rs reads them. One Secrets Manager secret
// (its id in KEYS_SECRET_ID) holds `{"current": <material>, "previous"?: <material>,
// "previous_retired_at"?: <RFC 3339>}`; each version of the material yields one key per
// purpose and the version's id (kid), by HKDF-SHA256. The salt, labels and lengths below
// must stay byte for byte those of keys.rs, or the tokens our functions issue fail here.
//
// Read once per instance, at init. keys.rs also reads the secret again when it meets an
// unknown kid or when its copy grows old, so that a rotation reaches warm instances; a
// peer instance lives for one benchmark run, in which nothing rotates, so here an
// unknown kid is simply a 401.

import { createSecretKey, hkdfSync } from 'node:crypto';

import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';

import { clientOptions } from './aws.mjs';

// Binds every derived key to this scheme (keys.rs's HKDF_SALT).
const HKDF_SALT = 'chat-api/keys/v1';
const KID_LABEL = 'chat-api/kid';
const KEY_BYTES = 32;
const KID_BYTES = 8;
// HMAC-SHA256's full strength; keys.rs refuses shorter material too.
const MIN_MATERIAL_BYTES = 32;

// The HKDF labels of the two token keys, by the token kind (`kind` claim) each signs. The
// peer verifies tokens only, so the other purposes' keys are never derived.
const TOKEN_KEY_LABELS = [
  ['api', 'chat-api/api-token'],
  ['chat_user', 'chat-api/chat-user-token'],
];

const DAY_SECS = 24 * 3600;

const malformed = (why) => new Error(`the keys secret is not valid: ${why}`);

function hkdf(material, label, bytes) {
  return Buffer.from(hkdfSync('sha256', material, HKDF_SALT, label, bytes));
}

/** One key version: its kid and, by token kind, the key that verifies that kind. */
function deriveVersion(material) {
  if (typeof material !== 'string' || Buffer.byteLength(material) < MIN_MATERIAL_BYTES) {
    throw malformed('a key must be at least 32 characters long');
  }
  return {
    kid: hkdf(material, KID_LABEL, KID_BYTES).toString('hex'),
    // A Map, not an object: the kind looked up comes from the token, and must not reach
    // Object.prototype's properties.
    tokenKeys: new Map(
      TOKEN_KEY_LABELS.map(([kind, label]) => [kind, createSecretKey(hkdf(material, label, KEY_BYTES))]),
    ),
  };
}

/** The previous version and until when it verifies, if the secret has one. */
function retiredVersion({ previous, previous_retired_at: retiredAt }, windowMs) {
  if (previous === undefined || previous === null) return undefined;
  const retiredMs = typeof retiredAt === 'string' ? Date.parse(retiredAt) : NaN;
  if (Number.isNaN(retiredMs)) {
    throw malformed('"previous" needs "previous_retired_at", an RFC 3339 time');
  }
  return { ...deriveVersion(previous), validUntilMs: retiredMs + windowMs };
}

/** The secret's value as a key ring: the current version, and the previous one if any. */
export function parseKeyRing(text, windowMs) {
  let stored;
  try {
    stored = JSON.parse(text);
  } catch {
    // The parser's message would quote the text, key material included: it stays out.
  }
  if (typeof stored?.current !== 'string') {
    throw malformed('the value must be JSON with a "current" key (a string)');
  }
  return { current: deriveVersion(stored.current), previous: retiredVersion(stored, windowMs) };
}

/** The version named `kid` if it may verify at `nowMs`: the current one, or the previous one within its window. */
export function findVersion(ring, kid, nowMs = Date.now()) {
  if (ring.current.kid === kid) return ring.current;
  const { previous } = ring;
  if (previous === undefined || previous.kid !== kid || nowMs >= previous.validUntilMs) return undefined;
  return previous;
}

function wholeNumberFromEnv(name, fallback) {
  const text = process.env[name]?.trim();
  if (!text) return fallback;
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < 1) throw new Error(`${name} must be a whole number, at least 1`);
  return value;
}

/**
 * How long a retired key still verifies: KEY_ROTATION_WINDOW_SECS, by default the
 * chat-user token lifetime (CHAT_USER_TOKEN_TTL_DAYS, 30), as shared/edge/src/config.rs reads it.
 */
function rotationWindowMs() {
  const tokenLifetimeSecs = wholeNumberFromEnv('CHAT_USER_TOKEN_TTL_DAYS', 30) * DAY_SECS;
  return wholeNumberFromEnv('KEY_ROTATION_WINDOW_SECS', tokenLifetimeSecs) * 1000;
}

async function readSecret(secretId) {
  const client = new SecretsManagerClient(clientOptions());
  try {
    const { SecretString } = await client.send(new GetSecretValueCommand({ SecretId: secretId }));
    if (SecretString === undefined) throw new Error('it has no string value');
    return SecretString;
  } catch (err) {
    throw new Error(`reading the keys secret ${secretId} from Secrets Manager failed: ${err.message}`);
  } finally {
    // Read once: its connection would only sit in the pool.
    client.destroy();
  }
}

/** The keys secret named by KEYS_SECRET_ID, read (one GetSecretValue) into a key ring. */
export async function loadKeyRing() {
  const secretId = process.env.KEYS_SECRET_ID?.trim();
  if (!secretId) throw new Error('KEYS_SECRET_ID must be set: the secret that holds the keys');
  return parseKeyRing(await readSecret(secretId), rotationWindowMs());
}
