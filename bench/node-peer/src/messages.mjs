// Posting a message, with the ordering contract of shared/storage/src/messages.rs: one
// transaction moves the chat's `last_message_id` (ids must climb) and its event counter
// `event_seq` (dense, conditional on the value read), puts the `message.created` event,
// checks the author is still a chat user, puts the message and, with a client id, its
// idempotency item. A writer that lost the counter race goes again with the chat as the
// failed condition hands it back.

import { incrementBase32, ulid } from 'ulid';

import { backoff, get, keys, transactWrite } from './db.mjs';

// How long events are kept (their TTL): the Rust default, EVENT_RETENTION_DAYS.
const EVENT_RETENTION_SECS = 30 * 24 * 3600;

/** The chat's counters as last read: the next event is `seq + 1`. */
export const headOf = (chat) => ({ chatId: chat.id, seq: chat.event_seq ?? 0, newestMessage: chat.last_message_id });

/** Now, but above the chat's newest id whatever the writers' clocks say. */
function nextMessageId(newest) {
  const now = ulid();
  return newest && now <= newest ? incrementBase32(newest) : now;
}

export function messageResource(m) {
  return {
    id: m.id,
    seq: m.seq,
    chat_id: m.chat_id,
    chat_user_id: m.chat_user_id,
    body: m.body,
    created_at: m.created_at,
    updated_at: m.updated_at,
    edited_at: m.edited_at ?? null,
  };
}

/** The items of one attempt; `slots` says which index is which. */
function appendItems(head, message, atMs) {
  const seq = head.seq + 1;
  // A chat written before the log existed has no counter yet.
  const counter = head.seq === 0 ? 'attribute_not_exists(event_seq) OR event_seq = :head_seq' : 'event_seq = :head_seq';
  const chatUpdate = {
    Update: {
      Key: keys.chat(head.chatId),
      UpdateExpression: 'SET #last_message_id = :last_message_id, #last_message_at = :last_message_at, #event_seq = :event_seq',
      ConditionExpression: `((attribute_not_exists(#last_message_id) OR #last_message_id < :last_message_id) AND (attribute_exists(PK))) AND (${counter})`,
      ExpressionAttributeNames: {
        '#last_message_id': 'last_message_id',
        '#last_message_at': 'last_message_at',
        '#event_seq': 'event_seq',
      },
      ExpressionAttributeValues: {
        ':last_message_id': message.id,
        ':last_message_at': message.created_at,
        ':event_seq': seq,
        ':head_seq': head.seq,
      },
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    },
  };
  const event = {
    ...keys.event(head.chatId, seq),
    seq,
    type: 'message.created',
    chat_id: head.chatId,
    at: message.created_at,
    data: messageResource(message),
    ttl: Math.floor(atMs / 1000) + EVENT_RETENTION_SECS,
  };
  const putNew = (item) => ({ Put: { Item: item, ConditionExpression: 'attribute_not_exists(PK)' } });
  const items = [
    chatUpdate,
    putNew(event),
    { ConditionCheck: { Key: keys.chatUser(head.chatId, message.chat_user_id), ConditionExpression: 'attribute_exists(PK)' } },
    putNew({ ...keys.message(head.chatId, message.id), ...message }),
  ];
  if (message.client_id !== undefined) {
    items.push(putNew({ ...keys.clientId(head.chatId, message.chat_user_id, message.client_id), message_id: message.id }));
  }
  return { items, slots: { head: 0, event: 1, author: 2, clientId: message.client_id === undefined ? -1 : 4 } };
}

const failed = (reasons, slot) => reasons[slot]?.Code === 'ConditionalCheckFailed';

// The chat item as a failed condition hands it back (attribute values, unconverted).
function headFromReturned(chatId, item) {
  return { chatId, seq: Number(item.event_seq?.N ?? 0), newestMessage: item.last_message_id?.S };
}

/**
 * Posts `body` by `chatUser` in the chat whose head was read as `head`. Returns
 * `{ posted, status }` (201 new, 200 a repeat of the same client id) or `{ refused }`:
 * 'repeat-of-deleted', 'author-gone', 'chat-gone', 'busy'.
 */
export async function postMessage(head, chatUser, body, clientId) {
  for (let attempt = 1; ; attempt++) {
    const atMs = Date.now();
    const at = new Date(atMs).toISOString();
    const message = {
      id: nextMessageId(head.newestMessage),
      seq: head.seq + 1,
      chat_id: head.chatId,
      chat_user_id: chatUser.id,
      body,
      created_at: at,
      updated_at: at,
      client_id: clientId,
    };
    const { items, slots } = appendItems(head, message, atMs);
    const reasons = await transactWrite(items);
    if (!reasons) return { posted: message, status: 201 };

    if (failed(reasons, slots.clientId)) return repeat(head.chatId, chatUser.id, clientId);
    if (failed(reasons, slots.author)) return { refused: 'author-gone' };
    const returned = reasons[slots.head]?.Item;
    if (failed(reasons, slots.head) && !returned) return { refused: 'chat-gone' };
    const moved = failed(reasons, slots.head) && headFromReturned(head.chatId, returned);
    const conflicted = reasons.some((r) => r.Code === 'TransactionConflict');
    if (moved && moved.seq !== head.seq) {
      head = moved;
    } else if (!(conflicted && !reasons.some((r) => r.Code === 'ConditionalCheckFailed'))) {
      throw new Error(`message append cancelled: ${reasons.map((r) => r.Code).join(', ')}`);
    }
    // Every writer but one loses each race for the counter: back off with jitter.
    if (!(await backoff(attempt, { baseMs: 4, capMs: 100, maxAttempts: 200 }))) return { refused: 'busy' };
  }
}

/** The message an earlier post with the same client id created. */
async function repeat(chatId, chatUserId, clientId) {
  const pointer = await get(keys.clientId(chatId, chatUserId, clientId));
  const message = pointer && (await get(keys.message(chatId, pointer.message_id)));
  return message ? { posted: message, status: 200 } : { refused: 'repeat-of-deleted' };
}
