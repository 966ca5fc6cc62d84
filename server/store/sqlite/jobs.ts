import type Database from 'better-sqlite3';
import type { AuditRecord, AuditRepo, JobRecord, JobRepo } from '../types.js';
import { setClause } from './patch.js';

interface Row {
  id: number;
  kind: string;
  target: string;
  state: JobRecord['state'];
  step: string | null;
  progress: string | null;
  log: string;
  result: string | null;
  error: string | null;
  created_by: string | null;
  created_at: number;
  started_at: number | null;
  finished_at: number | null;
}
const fromRow = (r: Row): JobRecord => ({
  id: r.id,
  kind: r.kind,
  target: r.target,
  state: r.state,
  step: r.step,
  progress: r.progress ? (JSON.parse(r.progress) as JobRecord['progress']) : null,
  log: r.log,
  result: r.result ? (JSON.parse(r.result) as Record<string, unknown>) : null,
  error: r.error,
  createdBy: r.created_by,
  createdAt: r.created_at,
  startedAt: r.started_at,
  finishedAt: r.finished_at,
});
const COLS = {
  state: 'state',
  step: 'step',
  progress: { name: 'progress', json: true },
  result: { name: 'result', json: true },
  error: 'error',
  startedAt: 'started_at',
  finishedAt: 'finished_at',
};

export function sqliteJobs(db: Database.Database, now: () => number): JobRepo {
  const insert = db.prepare("INSERT INTO jobs (kind, target, state, created_by, created_at) VALUES (?, ?, 'queued', ?, ?)");
  const get = db.prepare<[number], Row>('SELECT * FROM jobs WHERE id = ?');
  // Keep the log's tail when it grows past the cap: the end is where the failure is.
  const append = db.prepare<[string, number, number]>('UPDATE jobs SET log = substr(log || ?, -?) WHERE id = ?');
  const interrupted = db.prepare<[string, number]>(
    "UPDATE jobs SET state = 'failed', error = ?, finished_at = ? WHERE state IN ('queued','running')",
  );
  return {
    async create(kind, target, createdBy) {
      const r = insert.run(kind, target, createdBy, now());
      return fromRow(get.get(Number(r.lastInsertRowid))!);
    },
    async get(id) {
      const r = get.get(id);
      return r ? fromRow(r) : null;
    },
    async list(q) {
      const where: string[] = [];
      const args: Record<string, unknown> = { limit: q.limit };
      if (q.target) (where.push('target = @target'), (args.target = q.target));
      if (q.state) (where.push('state = @state'), (args.state = q.state));
      const w = where.length ? `WHERE ${where.join(' AND ')}` : '';
      return (db.prepare(`SELECT * FROM jobs ${w} ORDER BY id DESC LIMIT @limit`).all(args) as Row[]).map(fromRow);
    },
    async update(id, patch) {
      const { sets, args } = setClause(patch, COLS);
      if (sets.length) db.prepare(`UPDATE jobs SET ${sets.join(', ')} WHERE id = @id`).run({ ...args, id });
    },
    async appendLog(id, text, maxBytes) {
      append.run(text, maxBytes, id);
    },
    async failInterrupted(at) {
      return interrupted.run('interrupted: netroot stopped while the job ran', at).changes;
    },
  };
}

export function sqliteAudit(db: Database.Database): AuditRepo {
  const insert = db.prepare('INSERT INTO audit (at, actor, method, path, status, summary) VALUES (@at, @actor, @method, @path, @status, @summary)');
  return {
    async append(e) {
      insert.run(e);
    },
    async list(q) {
      const rows = (
        q.before === undefined
          ? db.prepare('SELECT * FROM audit ORDER BY id DESC LIMIT ?').all(q.limit)
          : db.prepare('SELECT * FROM audit WHERE id < ? ORDER BY id DESC LIMIT ?').all(q.before, q.limit)
      ) as AuditRecord[];
      return rows;
    },
  };
}
