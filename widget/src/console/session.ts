// Signing in and out: `POST /api/tokens` with a short `expires_in`; the token is kept for
// the tab only (sessionStorage), never in a URL; signing out revokes it.

import { Api, ApiError } from "../core/api";

/** A console sign-in lasts 8 hours (the issue allows up to 12). */
export const EXPIRES_IN = 8 * 3600;
const KEY = "chat-console:session";

export interface Session {
  token: string;
  tokenId: string;
  expiresAt: string | null;
}

export interface User {
  id: string;
  email: string;
  name: string;
}

export interface Company {
  id: string;
  name: string;
  membership?: { role: string; sees: string };
}

export function saved(): Session | null {
  try {
    const s = JSON.parse(sessionStorage.getItem(KEY) || "null") as Session | null;
    if (!s || !s.token) return null;
    if (s.expiresAt && Date.parse(s.expiresAt) <= Date.now()) return forget();
    return s;
  } catch {
    return null;
  }
}

function forget(): null {
  try {
    sessionStorage.removeItem(KEY);
  } catch {
    // Storage refused: nothing was kept.
  }
  return null;
}

export async function signIn(api: Api, email: string, password: string): Promise<Session> {
  const reply = await api.call<{ data: { token: string; expires_at: string | null; api_token: { id: string } } }>("POST", "/api/tokens", {
    email,
    password,
    name: "Console sign-in",
    expires_in: EXPIRES_IN,
  });
  const s: Session = { token: reply.data.token, tokenId: reply.data.api_token.id, expiresAt: reply.data.expires_at };
  try {
    sessionStorage.setItem(KEY, JSON.stringify(s));
  } catch {
    // Kept in memory only: a reload signs out.
  }
  return s;
}

/** Revokes the token (best effort: it expires anyway) and forgets it. */
export async function signOut(api: Api, s: Session): Promise<void> {
  forget();
  try {
    await api.call("DELETE", "/api/tokens/" + encodeURIComponent(s.tokenId));
  } catch (e) {
    if (!(e instanceof ApiError)) return;
  }
  api.token = null;
}

export async function whoAmI(api: Api): Promise<{ user: User; companies: Company[] }> {
  const user = (await api.call<{ data: User }>("GET", "/api/user")).data;
  const companies = (await api.call<{ data: Company[] }>("GET", "/api/companies", undefined, { per_page: 100 })).data;
  return { user, companies };
}
