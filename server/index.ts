/**
 * The server front end (`idplane serve`): JIT over HTTP, scheduled imports, /healthz and /metrics, all
 * running engine runs one at a time under the state lock. `serve` runs it until `stop` resolves.
 */
export { serve, type ServeOptions } from './serve.ts';
export { parseListen } from './listen.ts';
export { answerFor, HttpError, type HttpCode } from './http-errors.ts';
