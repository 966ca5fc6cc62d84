/**
 * Reads the configuration once: embedded defaults, then the JSON file, then NETROOT_* environment
 * overrides; validates it and fails fast naming the field. This is the only module that reads
 * process.env (callers pass it in, so tests give their own).
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';
import { configSchema, type Config } from './schema.js';
import { stripJsonComments } from './jsonc.js';

export const DEFAULT_CONFIG_PATH = '/etc/netroot/netroot.json';

export class ConfigError extends Error {
  constructor(
    message: string,
    readonly field?: string,
  ) {
    super(message);
    this.name = 'ConfigError';
  }
}

export interface LoadOptions {
  /** Path given with --config: must exist. Without it the default path is read if present. */
  path?: string;
  env?: NodeJS.ProcessEnv;
  uid?: number;
  cwd?: string;
}

/** Environment names the CLI reads that are not configuration keys. */
const CLIENT_ENV = new Set(['NETROOT_URL', 'NETROOT_TOKEN', 'NETROOT_CONFIG']);

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** Walks the schema to list leaf key paths, e.g. ['http','port']. */
function leafPaths(schema: z.ZodType, prefix: string[] = []): string[][] {
  let s: z.ZodType = schema;
  // Unwrap default/prefault/optional wrappers to reach the object or the leaf.
  for (;;) {
    const def = s._zod.def as { type: string; innerType?: z.ZodType };
    if ((def.type === 'default' || def.type === 'prefault' || def.type === 'optional') && def.innerType) s = def.innerType;
    else break;
  }
  if (s instanceof z.ZodObject) {
    return Object.entries(s.shape as Record<string, z.ZodType>).flatMap(([k, v]) => leafPaths(v, [...prefix, k]));
  }
  return [prefix];
}

export function envName(path: string[]): string {
  return 'NETROOT_' + path.map((p) => p.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase()).join('_');
}

function parseEnvValue(v: string): Json {
  const t = v.trim();
  if (/^(-?\d+(\.\d+)?|true|false|null)$/.test(t) || /^[[{"]/.test(t)) {
    try {
      return JSON.parse(t) as Json;
    } catch {
      return v;
    }
  }
  return v;
}

function setPath(obj: Record<string, Json>, path: string[], value: Json): void {
  let o = obj;
  for (const k of path.slice(0, -1)) {
    const next = o[k];
    if (next === undefined || next === null || typeof next !== 'object' || Array.isArray(next)) o[k] = {};
    o = o[k] as Record<string, Json>;
  }
  o[path[path.length - 1]!] = value;
}

export interface Loaded {
  config: Config;
  /** The file actually read, if any. */
  source: string | null;
  warnings: string[];
}

export function loadConfig(opts: LoadOptions = {}): Loaded {
  const env = opts.env ?? {};
  const warnings: string[] = [];
  const explicit = opts.path ?? env.NETROOT_CONFIG;
  const path = explicit ?? DEFAULT_CONFIG_PATH;
  let raw: Record<string, Json> = {};
  let source: string | null = null;
  let text: string | null = null;
  try {
    text = readFileSync(path, 'utf8');
    source = path;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (explicit || code !== 'ENOENT') throw new ConfigError(`config: cannot read ${path}: ${(e as Error).message}`);
  }
  if (text !== null) {
    try {
      const parsed = JSON.parse(stripJsonComments(text)) as Json;
      if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('top level must be an object');
      raw = parsed as Record<string, Json>;
    } catch (e) {
      throw new ConfigError(`config: ${path} is not valid JSON: ${(e as Error).message}`);
    }
  }

  const byEnv = new Map(leafPaths(configSchema).map((p) => [envName(p), p]));
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith('NETROOT_') || value === undefined || CLIENT_ENV.has(name)) continue;
    const p = byEnv.get(name);
    if (!p) {
      warnings.push(`${name} is not a netroot setting; ignored`);
      continue;
    }
    setPath(raw, p, parseEnvValue(value));
  }

  const uid = opts.uid ?? process.getuid?.() ?? 0;
  const cwd = opts.cwd ?? process.cwd();
  if (raw.dataDir === undefined) raw.dataDir = uid === 0 ? '/var/lib/netroot' : resolve(cwd, 'var');

  const r = configSchema.safeParse(raw);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    const field = issue.path.join('.') || '(top level)';
    const keys = (issue as { keys?: string[] }).keys;
    const message = keys ? `unknown setting ${keys.map((k) => (issue.path.length ? `${field}.${k}` : k)).join(', ')}` : issue.message;
    throw new ConfigError(`config: ${keys ? (issue.path.length ? `${field}.${keys[0]}` : keys[0]) : field}: ${message}`, keys ? [...issue.path, keys[0]].join('.') : field);
  }
  const config = r.data;
  config.dataDir = resolve(cwd, config.dataDir);
  return { config, source, warnings };
}
