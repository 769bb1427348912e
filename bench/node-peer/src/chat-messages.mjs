// POST /api/chats/{chat_id}/messages: a chat user posts a message.

import { guest, isId } from './auth.mjs';
import { ApiError, data, invalid, jsonBody, router, unauthenticated } from './http.mjs';
import { headOf, messageResource, postMessage } from './messages.mjs';

const NO_SUCH_CHAT = () => new ApiError(404, 'No such chat.');

const REFUSALS = {
  'repeat-of-deleted': () => new ApiError(404, 'No such message.'),
  'author-gone': () => unauthenticated(),
  'chat-gone': NO_SUCH_CHAT,
  busy: () =>
    new ApiError(429, 'This chat is very busy right now. Send the message again.', {
      headers: { 'retry-after': '1' },
    }),
};

/** `body` (1–5000 characters, not blank) and an optional `client_id` (1–64). */
function messageFields(input) {
  const errors = {};
  const length = (text) => [...text].length;
  const { body, client_id: clientId } = input;
  if (body === undefined || body === null || (typeof body === 'string' && body.trim() === '')) {
    errors.body = ['The body field is required.'];
  } else if (typeof body !== 'string') {
    errors.body = ['The body field must be a string.'];
  } else if (length(body) > 5000) {
    errors.body = ['The body field must not be greater than 5000 characters.'];
  }
  if (clientId !== undefined && clientId !== null) {
    if (typeof clientId !== 'string') errors.client_id = ['The client_id field must be a string.'];
    else if (length(clientId) < 1) errors.client_id = ['The client_id field must be at least 1 characters.'];
    else if (length(clientId) > 64) errors.client_id = ['The client_id field must not be greater than 64 characters.'];
  }
  if (Object.keys(errors).length > 0) throw invalid(errors);
  return { body, clientId: clientId ?? undefined };
}

async function post(event, { chatId }) {
  if (!isId(chatId)) throw NO_SUCH_CHAT();
  const input = jsonBody(event);
  const caller = await guest(event);
  if (caller.chat.id !== chatId) throw new ApiError(403, 'This chat-user token belongs to another chat.');
  const { body, clientId } = messageFields(input);
  const outcome = await postMessage(headOf(caller.chat), caller.chatUser, body, clientId);
  if (outcome.refused) throw REFUSALS[outcome.refused]();
  return data(outcome.status, messageResource(outcome.posted));
}

export const handler = router([
  {
    path: '/api/chats/{chat_id}/messages',
    pattern: /^\/api\/chats\/(?<chatId>[^/]+)\/messages$/,
    methods: { POST: post },
  },
]);
