// The entry point `bootstrap` starts: loads the handler named by `_HANDLER`
// (`<module>.<export>`, e.g. `current-user.handler`, as Lambda sets it from a function's
// Handler) and serves invocations with it.

import { reportInitError, serve } from './runtime.mjs';

try {
  const [file, exported] = (process.env._HANDLER ?? '').split('.');
  const module = await import(`./${file}.mjs`);
  if (typeof module[exported] !== 'function') {
    throw new Error(`_HANDLER=${process.env._HANDLER}: no such handler`);
  }
  await serve(module[exported]);
} catch (err) {
  await reportInitError(err);
  process.exit(1);
}
