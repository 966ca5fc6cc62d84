/**
 * One table of API routes: express is wired from it and the OpenAPI document is generated from it,
 * so the two cannot drift. Input is validated once here (params, query, body by zod schema) and
 * handlers read it back typed.
 */
import type { Request, Response } from 'express';
import { z } from 'zod';
import type { TokenRecord } from '../store/types.js';

export type Access = 'public' | 'read' | 'write';
export type Method = 'get' | 'post' | 'patch' | 'put' | 'delete';

export interface Ctx<P, Q, B> {
  params: P;
  query: Q;
  body: B;
  /** The caller's token; null only on public routes. */
  token: TokenRecord | null;
  req: Request;
  res: Response;
}

export interface Reply {
  status?: number;
  body?: unknown;
  /** The handler wrote the response itself (streams, SSE). */
  handled?: boolean;
}

export interface RouteDef<P extends z.ZodType = z.ZodType, Q extends z.ZodType = z.ZodType, B extends z.ZodType = z.ZodType> {
  method: Method;
  /** OpenAPI form: /nodes/{key} */
  path: string;
  summary: string;
  tag: string;
  access: Access;
  params?: P;
  query?: Q;
  body?: B;
  /** Body size limit for this route in bytes (default: config http.bodyLimitBytes). */
  bodyLimit?: 'default' | 'import';
  /** Status -> description; the first 2xx is the success status. */
  responses: Record<number, string>;
  /** 'text/event-stream' etc. when not JSON. */
  produces?: string;
  handle(ctx: Ctx<z.output<P>, z.output<Q>, z.output<B>>): Promise<Reply>;
}

/** Identity function that keeps each route's generic types (a table of heterogenous routes). */
export function route<P extends z.ZodType = z.ZodObject<{}>, Q extends z.ZodType = z.ZodObject<{}>, B extends z.ZodType = z.ZodUndefined>(
  def: RouteDef<P, Q, B>,
): RouteDef {
  return def as unknown as RouteDef;
}

export const expressPath = (p: string) => p.replace(/\{(\w+)\}/g, ':$1');
