// Who a request comes from: an HS256 JWT (`kind` api or chat_user) checked against the
// table, as shared/src/auth.rs does. An API token names its token item (revocation is
// deleting it); a chat-user token names its chat and chat user, and expires.

import jwt from 'jsonwebtoken';

import { getMany, keys, updateExisting } from './db.mjs';
import { bearerToken, unauthenticated } from './http.mjs';

/**
 * The key tokens are verified with. The only place that knows where it comes from
 * (today the TOKEN_SECRET variable; keys are moving to Secrets Manager and tokens gain a
 * `kid`): change this function, nothing else.
 */
async function loadSigningKey() {
  const secret = process.env.TOKEN_SECRET;
  if (!secret || Buffer.byteLength(secret) < 32) {
    throw new Error('TOKEN_SECRET must be set, at least 32 bytes long');
  }
  return secret;
}

// Once per instance, at init.
const signingKey = await loadSigningKey();

// Canonical ULIDs only (upper case): one resource, one spelling.
export const isId = (text) => typeof text === 'string' && /^[0-7][0-9A-HJKMNP-TV-Z]{25}$/.test(text);

/** Signature (HS256 only), expiry, and the claims each kind must carry. */
function verify(token) {
  let claims;
  try {
    claims = jwt.verify(token, signingKey, { algorithms: ['HS256'] });
  } catch {
    throw unauthenticated();
  }
  const complete =
    (claims.kind === 'api' && typeof claims.jti === 'string') ||
    (claims.kind === 'chat_user' && typeof claims.chat === 'string' && Number.isInteger(claims.exp));
  if (!complete || typeof claims.sub !== 'string') throw unauthenticated();
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
  // Issued before the owner revoked this chat user's tokens.
  const issuedMs = claims.iat_ms ?? claims.iat * 1000;
  if (chatUser.tokens_revoked_at_ms !== undefined && issuedMs <= chatUser.tokens_revoked_at_ms) {
    throw unauthenticated();
  }
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
