// The Lambda Runtime API loop: what AWS's managed nodejs20.x runtime does around a
// handler, reduced to its protocol (next invocation, then its response or error), so
// the peer runs as a custom runtime wherever our Rust bootstraps run (the benchmark
// harness's local Runtime API included). The handler modules themselves are plain
// nodejs20.x handlers (`export const handler = async (event, context) => ...`).

import http from 'node:http';

const API = process.env.AWS_LAMBDA_RUNTIME_API;
const BASE = '/2018-06-01/runtime';
// One connection, kept open between invocations, as the managed runtime does.
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

function call(method, path, body) {
  const [host, port] = API.split(':');
  return new Promise((resolve, reject) => {
    const req = http.request({ host, port, method, path, agent }, (res) => {
      const chunks = [];
      res.on('data', (chunk) => chunks.push(chunk));
      res.on('end', () =>
        resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }),
      );
    });
    req.on('error', reject);
    if (body !== undefined) {
      req.setHeader('content-type', 'application/json');
      req.end(body);
    } else {
      req.end();
    }
  });
}

function errorPayload(err) {
  return JSON.stringify({ errorType: err?.name ?? 'Error', errorMessage: String(err?.message ?? err) });
}

/** Reports a failure before the first invocation (a bad handler name, a module that throws). */
export async function reportInitError(err) {
  await call('POST', `${BASE}/init/error`, errorPayload(err));
}

/** Serves invocations with `handler` until the process is stopped. */
export async function serve(handler) {
  for (;;) {
    const next = await call('GET', `${BASE}/invocation/next`);
    const requestId = next.headers['lambda-runtime-aws-request-id'];
    const context = {
      awsRequestId: requestId,
      invokedFunctionArn: next.headers['lambda-runtime-invoked-function-arn'],
      deadlineMs: Number(next.headers['lambda-runtime-deadline-ms']),
    };
    let outcome;
    try {
      const result = await handler(JSON.parse(next.body), context);
      outcome = ['response', JSON.stringify(result)];
    } catch (err) {
      outcome = ['error', errorPayload(err)];
    }
    await call('POST', `${BASE}/invocation/${requestId}/${outcome[0]}`, outcome[1]);
  }
}
