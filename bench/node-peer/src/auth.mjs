// Who a request comes from: an HS256 JWT (`kind` api or chat_user) checked against the
// table, as shared/edge/src/auth.rs does. Each kind has its own key, in the version the
// header's `kid` names (see keys.mjs). An API token names its token item (revocation is
// deleting it); a chat-user token names its chat and chat user, and expires.

import jwt from 'jsonwebtoken';

import { getMany, keys, updateExisting } from './db.mjs';
import { bearerToken, unauthenticated } from './http.mjs';
import { findVersion, loadKeyRing } from './keys.mjs';

// Once per instance, at init: one GetSecretValue.
const keyRing = await loadKeyRing();

// Canonical ULIDs only (upper case): one resource, one spelling.
export const isId = (text) => typeof text === 'string' && /^[0-7][0-9A-HJKMNP-TV-Z]{25}$/.test(text);

/**
 * The key a token must verify under: its kind's key in the version its header's kid
 * names. None for a token without a kid, a kid that is unknown or past its window, or a
 * kind that is neither. The kind is read before the signature is checked, but it picks
 * the key: a token claiming one kind verifies only under that kind's key, so neither
 * kind can pass for the other (auth.rs tries both keys, to the same effect).
 */
function verificationKey(token) {
  const decoded = decodeUnverified(token);
  const kid = decoded?.header?.kid;
  const version = typeof kid === 'string' ? findVersion(keyRing, kid) : undefined;
  return version?.tokenKeys.get(decoded.payload?.kind);
}

/** The token's header and payload, not yet verified; undefined when it is no JWT. */
function decodeUnverified(token) {
  try {
    // Throws on some malformed tokens (a `typ: JWT` header over a payload that is not
    // JSON) and returns null on others: both are a 401, not a 500.
    return jwt.decode(token, { complete: true }) ?? undefined;
  } catch {
    return undefined;
  }
}

/** Key version, signature (HS256 only), expiry, and the claims each kind must carry. */
function verify(token) {
  const key = verificationKey(token);
  if (!key) throw unauthenticated();
  let claims;
  try {
    claims = jwt.verify(token, key, { algorithms: ['HS256'] });
  } catch {
    throw unauthenticated();
  }
  const complete =
    (claims.kind === 'api' && typeof claims.jti === 'string') ||
    (claims.kind === 'chat_user' && typeof claims.chat === 'string' && Number.isInteger(claims.exp));
  // auth.rs's Claims require `sub` and `iat` of every token.
  if (!complete || typeof claims.sub !== 'string' || !Number.isInteger(claims.iat)) throw unauthenticated();
  return claims;
}

// `last_used_at` is written at most this often: a write per request would double the cost.
const LAST_USED_RESOLUTION_MS = 5 * 60 * 1000;

async function loadOperator(claims) {
  if (!isId(claims.sub) || !isId(claims.jti)) throw unauthenticated();
  // A revoked token or a deleted user: both read in one round trip.
  const [user, token] = await getMany([keys.user(claims.sub), keys.apiToken(claims.sub, claims.jti)]);
  if (!user || !token) throw unauthenticated();
  const now = Date.now();
  if (token.last_used_ms === undefined || now - token.last_used_ms > LAST_USED_RESOLUTION_MS) {
    const usedAt = new Date(now).toISOString();
    const stillThere = await updateExisting(keys.apiToken(user.id, token.id), {
      last_used_at: usedAt,
      last_used_ms: now,
    });
    if (!stillThere) throw unauthenticated();
    Object.assign(token, { last_used_at: usedAt, last_used_ms: now });
  }
  return { kind: 'operator', user, token };
}

async function loadGuest(claims) {
  if (!isId(claims.sub) || !isId(claims.chat)) throw unauthenticated();
  // The chat user or its whole chat deleted: the token died with it.
  const [chatUser, chat] = await getMany([keys.chatUser(claims.chat, claims.sub), keys.chat(claims.chat)]);
  if (!chatUser || !chat) throw unauthenticated();
  // Issued before the owner revoked this chat user's tokens, or every guest's.
  const issuedMs = claims.iat_ms ?? claims.iat * 1000;
  const revokedMs = Math.max(chatUser.tokens_revoked_at_ms ?? -Infinity, chat.tokens_revoked_at_ms ?? -Infinity);
  if (issuedMs <= revokedMs) throw unauthenticated();
  return { kind: 'guest', chatUser, chat };
}

async function authenticate(event) {
  const token = bearerToken(event);
  if (!token) throw unauthenticated();
  const claims = verify(token);
  return claims.kind === 'api' ? loadOperator(claims) : loadGuest(claims);
}

/** An operator (API token); a chat-user token is a 401 that says so. */
export async function operator(event) {
  const caller = await authenticate(event);
  if (caller.kind !== 'operator') throw unauthenticated('This route needs an API token, not a chat-user token.');
  return caller;
}

/** A chat user (chat-user token); an API token is a 401 that says so. */
export async function guest(event) {
  const caller = await authenticate(event);
  if (caller.kind !== 'guest') throw unauthenticated('This route needs a chat-user token, not an API token.');
  return caller;
}
