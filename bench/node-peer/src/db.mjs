// The table: the client (one per instance, made at init), the keys of the items the two
// routes touch, and the few operations they use. Key shapes and item attributes are
// the Rust functions' (shared/storage/src/*.rs): both implementations read and write the
// same items.

import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  DynamoDBDocumentClient,
  GetCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';

import { clientOptions } from './aws.mjs';

const TABLE = process.env.TABLE_NAME;

const client = DynamoDBDocumentClient.from(new DynamoDBClient(clientOptions()), {
  marshallOptions: { removeUndefinedValues: true },
});

export const keys = {
  user: (userId) => ({ PK: `USER#${userId}`, SK: 'PROFILE' }),
  apiToken: (userId, tokenId) => ({ PK: `USER#${userId}`, SK: `TOKEN#${tokenId}` }),
  chat: (chatId) => ({ PK: `CHAT#${chatId}`, SK: 'CHAT' }),
  chatUser: (chatId, chatUserId) => ({ PK: `CHAT#${chatId}`, SK: `MEMBER#${chatUserId}` }),
  message: (chatId, messageId) => ({ PK: `CHAT#${chatId}`, SK: `MSG#${messageId}` }),
  clientId: (chatId, chatUserId, clientId) => ({
    PK: `CHAT#${chatId}`,
    SK: `CLIENT#${chatUserId}#${clientId}`,
  }),
  // Zero-padded so that events sort by seq.
  event: (chatId, seq) => ({ PK: `CHAT#${chatId}`, SK: `EVT#${String(seq).padStart(12, '0')}` }),
};

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits with "equal jitter" before attempt `attempt + 1`; false when none is left. */
export async function backoff(attempt, { baseMs, capMs, maxAttempts }) {
  if (attempt >= maxAttempts) return false;
  const ceiling = Math.min(baseMs * 2 ** Math.min(attempt - 1, 20), capMs);
  await sleep(ceiling / 2 + Math.random() * (ceiling / 2));
  return true;
}

/** Strongly consistent reads of several items in one round trip, in the order of `wanted`. */
export async function getMany(wanted) {
  let pending = wanted;
  const found = [];
  for (let attempt = 1; ; attempt++) {
    const out = await client.send(
      new BatchGetCommand({ RequestItems: { [TABLE]: { Keys: pending, ConsistentRead: true } } }),
    );
    found.push(...(out.Responses?.[TABLE] ?? []));
    pending = out.UnprocessedKeys?.[TABLE]?.Keys ?? [];
    if (pending.length === 0) break;
    // DynamoDB hands keys back under throttling.
    if (!(await backoff(attempt, { baseMs: 25, capMs: 1000, maxAttempts: 8 }))) {
      throw Object.assign(new Error('BatchGetItem: keys left unprocessed'), { $retryable: true });
    }
  }
  return wanted.map((key) => found.find((item) => item.PK === key.PK && item.SK === key.SK));
}

export async function get(key) {
  const out = await client.send(new GetCommand({ TableName: TABLE, Key: key, ConsistentRead: true }));
  return out.Item;
}

/** Sets attributes of an item that must still exist; false when it is gone. */
export async function updateExisting(key, changes) {
  const names = Object.keys(changes);
  try {
    await client.send(
      new UpdateCommand({
        TableName: TABLE,
        Key: key,
        UpdateExpression: `SET ${names.map((n) => `#${n} = :${n}`).join(', ')}`,
        ConditionExpression: 'attribute_exists(PK)',
        ExpressionAttributeNames: Object.fromEntries(names.map((n) => [`#${n}`, n])),
        ExpressionAttributeValues: Object.fromEntries(names.map((n) => [`:${n}`, changes[n]])),
      }),
    );
    return true;
  } catch (err) {
    if (err.name === 'ConditionalCheckFailedException') return false;
    throw err;
  }
}

/**
 * One TransactWriteItems of `items` (each `{ Put | Update | ConditionCheck }` without
 * the table name). Returns null when it was written, else the cancellation reasons, one
 * per item (`Code`, and `Item` as it was for updates that ask for it).
 */
export async function transactWrite(items) {
  const withTable = items.map((item) => {
    const [kind, params] = Object.entries(item)[0];
    return { [kind]: { TableName: TABLE, ...params } };
  });
  try {
    await client.send(new TransactWriteCommand({ TransactItems: withTable }));
    return null;
  } catch (err) {
    if (err.name === 'TransactionCanceledException') return err.CancellationReasons ?? [];
    throw err;
  }
}
