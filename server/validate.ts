/** Turns a zod failure into netroot's error naming the field ("nodes[3].mac", "fqdn"). */
import type { z } from 'zod';
import { AppError, ErrorCode } from './errors.js';

export function fieldPath(path: readonly PropertyKey[], prefix = ''): string {
  let s = prefix;
  for (const p of path) s += typeof p === 'number' ? `[${p}]` : s ? `.${String(p)}` : String(p);
  return s || 'body';
}

export function parseInput<S extends z.ZodType>(schema: S, data: unknown, prefix = ''): z.output<S> {
  const r = schema.safeParse(data);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  const keys = (issue as { keys?: string[] }).keys;
  const path = keys?.length ? [...issue.path, keys[0]!] : issue.path;
  const field = fieldPath(path, prefix);
  let message = issue.message;
  if (keys?.length) message = `unknown field`;
  else if (issue.code === 'invalid_type' && /received undefined/.test(message)) message = 'required';
  else message = message.replace(/^Invalid input: /, '');
  throw new AppError(ErrorCode.Invalid, `${field}: ${message}`, field);
}
