// The edge of an API Gateway HTTP API (payload 2.0) function: routing, bodies, the
// JSON envelopes (`{"data": ...}`, `{"message": ..., "errors"?: ...}`) and headers of
// the Chat API, and one log line per request.

/** An answer other than success; `fields` are extra body fields (`errors` of a 422). */
export class ApiError extends Error {
  constructor(status, message, { fields = {}, headers = {} } = {}) {
    super(message);
    this.status = status;
    this.fields = fields;
    this.headers = headers;
  }
}

export const unauthenticated = (message = 'Unauthenticated.') => new ApiError(401, message);

/** A 422 naming each invalid field. */
export function invalid(errors) {
  return new ApiError(422, 'The given data was invalid.', { fields: { errors } });
}

const MAX_BODY_BYTES = 64 * 1024;

export function json(status, body, headers = {}) {
  return {
    statusCode: status,
    headers: {
      'content-type': 'application/json',
      // API answers hold tokens and personal data: never cached.
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      ...headers,
    },
    body: JSON.stringify(body),
    isBase64Encoded: false,
  };
}

export const data = (status, resource) => json(status, { data: resource });

export function bearerToken(event) {
  const header = event.headers?.authorization ?? '';
  const [scheme, token] = header.trim().split(/\s+/, 2);
  return scheme?.toLowerCase() === 'bearer' && token ? token : undefined;
}

/** The JSON body as an object (400 / 413 otherwise); `{}` when there is none. */
export function jsonBody(event) {
  if (!event.body) return {};
  const text = event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
  if (Buffer.byteLength(text) > MAX_BODY_BYTES) {
    throw new ApiError(413, 'The request body is too large (at most 64 KiB).');
  }
  let parsed;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new ApiError(400, 'The request body is not valid JSON.');
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ApiError(400, 'The request body must be a JSON object.');
  }
  return parsed;
}

const LOG_LEVELS = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL'];
// Lambda's log-level setting (advanced logging controls), INFO when unset.
const logThreshold = LOG_LEVELS.indexOf((process.env.AWS_LAMBDA_LOG_LEVEL ?? 'INFO').toUpperCase());

function log(level, fields) {
  if (LOG_LEVELS.indexOf(level) >= logThreshold) {
    console.log(JSON.stringify({ level, timestamp: new Date().toISOString(), ...fields }));
  }
}

/**
 * A function's handler: `routes` maps a path pattern (a RegExp whose groups are the
 * path parameters) to `{ METHOD: async (event, params) => response }`. Unknown paths are
 * a 404, other methods a 405, and any failure becomes its JSON answer.
 */
export function router(routes) {
  return async (event, context) => {
    const started = performance.now();
    const requestId = event.requestContext?.requestId || context?.awsRequestId;
    const method = event.requestContext?.http?.method ?? 'GET';
    let response;
    let route = '(none)';
    try {
      const match = routes.find(({ pattern }) => pattern.test(event.rawPath));
      if (!match) throw new ApiError(404, 'There is no such route.');
      route = match.path;
      const serve = match.methods[method];
      if (!serve) {
        throw new ApiError(405, `The ${method} method is not supported for this route.`, {
          headers: { allow: Object.keys(match.methods).join(', ') },
        });
      }
      response = await serve(event, event.rawPath.match(match.pattern).groups ?? {});
    } catch (err) {
      response = errorResponse(err, requestId);
    }
    response.headers['x-request-id'] = requestId;
    log('INFO', {
      message: 'handled',
      request_id: requestId,
      method,
      route,
      status: response.statusCode,
      duration_ms: Math.round(performance.now() - started),
    });
    return response;
  };
}

function errorResponse(err, requestId) {
  if (err instanceof ApiError) {
    return json(err.status, { message: err.message, ...err.fields }, err.headers);
  }
  log('ERROR', { message: 'request failed', request_id: requestId, error: String(err?.stack ?? err) });
  if (awsUnavailable(err)) {
    return json(
      503,
      { message: 'The service is briefly unavailable. Try again after the number of seconds in the Retry-After header.' },
      { 'retry-after': '5' },
    );
  }
  return json(500, {
    message: 'Something went wrong on our side. Quote the X-Request-Id header if you contact support.',
  });
}

/** AWS said "not now" (throttled, a 5xx, a timeout): the same request may pass later. */
function awsUnavailable(err) {
  const status = err?.$metadata?.httpStatusCode;
  return Boolean(err?.$retryable) || status >= 500 || status === 429 || err?.name === 'TimeoutError';
}
