/**
 * The HTTP application: REST API under /api/v1 (bearer tokens), boot files under /boot (no token,
 * read-only, mounted by the composition root), the web UI at /. One error handler maps errors to
 * `{error: {code, message, field?}}`. An API request's token is checked before its body is read,
 * and each route reads at most its own cap (body.ts).
 */
import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import type { Logger } from 'pino';
import { AppError, ErrorCode } from '../errors.js';
import { bodyPending, closeAfterAnswer, declaredLength, discardBody, UNUSED_BODY_LIMIT } from './body.js';
import { parseInput } from '../validate.js';
import { securityHeaders } from './headers.js';
import type { ApiDeps } from './deps.js';
import { openApiDocument } from './openapi.js';
import { expressPath, type RouteDef } from './route.js';
import { discoveredRoutes } from './routes/discovered.js';
import { nodeRoutes } from './routes/nodes.js';
import { systemRoutes } from './routes/system.js';
import { tokenRoutes } from './routes/tokens.js';
import { liveRoutes } from './routes/live.js';
import type { TokenRecord } from '../store/types.js';

export const API_BASE = '/api/v1';

export interface AppOptions {
  bodyLimitBytes: number;
  importLimitBytes: number;
  log: Logger;
  /** Extra routes from subsystems (images, exports, dhcp...). */
  extraRoutes?: RouteDef[];
  /** Mounted beside the API (no token, no request body read): e.g. ['/boot', bootHandler]. */
  mounts?: [string, RequestHandler][];
  /** Directory of the web UI's static files, served at /. */
  webDir?: string;
}

export function apiRoutes(d: ApiDeps, extra: RouteDef[] = []): RouteDef[] {
  return [...systemRoutes(d), ...nodeRoutes(d), ...discoveredRoutes(d), ...tokenRoutes(d), ...liveRoutes(d), ...extra];
}

async function authenticate(d: ApiDeps, req: Request): Promise<TokenRecord> {
  const h = req.get('authorization');
  if (!h) throw new AppError(ErrorCode.Unauthorized, 'missing bearer token (Authorization: Bearer nrt_...)');
  const m = /^Bearer\s+(\S+)$/i.exec(h);
  if (!m) throw new AppError(ErrorCode.Unauthorized, 'Authorization header must be "Bearer <token>"');
  const t = await d.tokens.verify(m[1]!);
  if (!t) throw new AppError(ErrorCode.Unauthorized, 'unknown or revoked token');
  return t;
}

export function createApp(d: ApiDeps, opts: AppOptions): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('trust proxy', false);
  app.use(securityHeaders());

  app.use((req, res, next) => {
    const t0 = process.hrtime.bigint();
    res.on('finish', () => {
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      const who = (res.locals.token as TokenRecord | undefined)?.name;
      opts.log.info({ method: req.method, url: req.originalUrl, status: res.statusCode, ms: Math.round(ms * 10) / 10, token: who, client: req.socket.remoteAddress }, 'http');
    });
    next();
  });

  const routes = apiRoutes(d, opts.extraRoutes);
  const router = express.Router();
  const limitOf = (r: RouteDef) => (!r.body ? UNUSED_BODY_LIMIT : r.bodyLimit === 'import' ? opts.importLimitBytes : opts.bodyLimitBytes);
  const unusedBody: RequestHandler = (req, _res, next) => (discardBody(req, UNUSED_BODY_LIMIT) ? next() : next(tooLarge(null)));

  router.get('/openapi.json', unusedBody, (_req, res) => {
    res.json(openApiDocument(routes, d.version, API_BASE));
  });

  for (const r of routes) {
    const limit = limitOf(r);
    // Everything the headers decide comes before a byte of the body is read: the token, the
    // role, the declared length.
    const gate: RequestHandler = async (req, res, next) => {
      try {
        const token = r.access === 'public' ? null : await authenticate(d, req);
        res.locals.token = token;
        if (r.access === 'write' && token) {
          // Audit: who changed (or tried to change) what, and how it ended.
          res.on('finish', () => {
            d.store.audit
              .append({ at: Date.now(), actor: token.name, method: req.method, path: req.originalUrl.split('?')[0]!, status: res.statusCode, summary: r.summary })
              .catch((err: unknown) => opts.log.error({ err }, 'could not write the audit log'));
          });
        }
        if (r.access === 'write' && token?.role !== 'admin') {
          throw new AppError(ErrorCode.Forbidden, `token ${token?.name} is read-only`);
        }
        const n = declaredLength(req);
        if (n !== null && n > limit) throw tooLarge(r.body ? limit : null);
        if (!r.body) discardBody(req, limit);
        next();
      } catch (e) {
        next(e);
      }
    };
    const handlers: RequestHandler[] = [gate];
    if (r.body) handlers.push(express.json({ limit, strict: true }));
    handlers.push(async (req: Request, res: Response, next: NextFunction) => {
      try {
        const token = res.locals.token as TokenRecord | null;
        const params = r.params ? parseInput(r.params, req.params) : {};
        const query = r.query ? parseInput(r.query, { ...req.query }) : {};
        const raw: unknown = req.is('application/json') ? req.body : undefined;
        if (r.body && raw === undefined && !r.body.safeParse(undefined).success) {
          throw new AppError(ErrorCode.Invalid, 'body: expected a JSON body (Content-Type: application/json)', 'body');
        }
        // A body the JSON parser left (another Content-Type): thrown away, within the route's cap.
        if (bodyPending(req)) discardBody(req, limit);
        const body = r.body ? parseInput(r.body, raw) : undefined;
        const reply = await r.handle({ params, query, body, token, req, res });
        if (reply.handled) return;
        res.status(reply.status ?? 200);
        if (reply.body === undefined) res.end();
        else res.json(reply.body);
      } catch (e) {
        next(e);
      }
    });
    router[r.method](expressPath(r.path), ...handlers);
  }
  router.use((req, _res, next) => next(new AppError(ErrorCode.NotFound, `no API route ${req.method} ${API_BASE}${req.path}`)));
  app.use(API_BASE, router);
  app.use(API_BASE, errorHandler(opts.log));

  // Below the API nothing reads a request body (the nodes' "booted" report ignores its own): a
  // small one is thrown away, a larger one refused unread and its connection closed.
  app.use((req, res, next) => {
    if (discardBody(req, UNUSED_BODY_LIMIT)) return next();
    closeAfterAnswer(req, res);
    res.status(413).type('text/plain').send(`request body too large (this route reads none; at most ${UNUSED_BODY_LIMIT} bytes are ignored)\n`);
  });
  for (const [path, handler] of opts.mounts ?? []) app.use(path, handler);
  if (opts.webDir) {
    // The admin UI: static files, no build step; it talks only to the API above.
    app.use(express.static(opts.webDir, { index: 'index.html', maxAge: 0, etag: true }));
  }
  // Answered here rather than by express's final handler, which replaces the security headers.
  app.use((_req, res) => {
    res.status(404).type('text/plain').send('not found\n');
  });
  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    const status = (err as { status?: unknown }).status;
    const code = typeof status === 'number' && status >= 400 && status < 500 ? status : 500;
    if (code === 500) opts.log.error({ err, method: req.method, url: req.originalUrl }, 'unhandled error in HTTP request');
    if (res.headersSent) return void res.destroy();
    res.status(code).type('text/plain').send(code === 500 ? 'internal error\n' : `${(err as Error).message}\n`);
  });
  return app;
}

function tooLarge(limit: number | null): AppError {
  const why = limit === null ? `this route takes no body (at most ${UNUSED_BODY_LIMIT} bytes are ignored)` : `larger than this route accepts (${limit} bytes)`;
  return new AppError(ErrorCode.BodyTooLarge, `body: ${why}`, 'body');
}

/** The one error handler: AppError -> its status; body-parser errors -> 400/413; the rest -> 500. */
export function errorHandler(log: Logger) {
  return (err: unknown, req: Request, res: Response, _next: NextFunction) => {
    let e: AppError;
    const bp = err as { type?: string; status?: number; message?: string; limit?: unknown };
    if (err instanceof AppError) e = err;
    else if (bp.type === 'entity.too.large') e = tooLarge(typeof bp.limit === 'number' ? bp.limit : null);
    else if (bp.type === 'entity.parse.failed') e = new AppError(ErrorCode.Invalid, `body: not valid JSON (${bp.message})`, 'body');
    else if (typeof bp.type === 'string' && typeof bp.status === 'number' && bp.status < 500) e = new AppError(ErrorCode.Invalid, `body: ${bp.message}`, 'body');
    else {
      log.error({ err, method: req.method, url: req.originalUrl }, 'unhandled error in API request');
      e = new AppError(ErrorCode.Internal, 'internal error (logged on the server)');
    }
    if (res.headersSent) return;
    // Refused before its body was read (no token, too large...): the body stays unread and the
    // connection is closed after this answer.
    if (bodyPending(req)) closeAfterAnswer(req, res);
    if (e.code === ErrorCode.Unauthorized) res.set('WWW-Authenticate', 'Bearer realm="netroot"');
    res.status(e.status).json({ error: { code: e.code, message: e.message, ...(e.field ? { field: e.field } : {}) } });
  };
}
