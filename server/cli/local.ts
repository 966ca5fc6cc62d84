/** `netroot token create NAME --local`: on the server itself, straight into the store (bootstrap, lost token). */
import { join } from 'node:path';
import { loadConfig } from '../config/load.js';
import { TokenService } from '../auth/tokens.js';
import { openSqliteStore } from '../store/sqlite/index.js';
import type { TokenRole } from '../store/types.js';
import { AppError } from '../errors.js';
import { backup, restore } from '../backup.js';

export async function localTokenCreate(o: {
  name: string;
  role: TokenRole;
  configPath: string | undefined;
  env: NodeJS.ProcessEnv;
  json: boolean;
  out: (s: string) => void;
  err: (s: string) => void;
}): Promise<number> {
  const { config } = loadConfig({ path: o.configPath, env: o.env });
  const store = openSqliteStore(join(config.dataDir, 'netroot.db'));
  try {
    const { token, secret } = await new TokenService(store).create(o.name, o.role);
    o.out(o.json ? JSON.stringify({ name: token.name, role: token.role, secret }) + '\n' : `token ${token.name} (${token.role}); the secret is shown only now:\n${secret}\n`);
    return 0;
  } catch (e) {
    if (e instanceof AppError) {
      o.err(`netroot: ${e.message}\n`);
      return 1;
    }
    throw e;
  } finally {
    await store.close();
  }
}

/** `netroot backup FILE` / `netroot restore FILE`, on the server itself (config gives the data dir). */
export async function backupCommand(
  cmd: 'backup' | 'restore',
  file: string,
  o: { configPath: string | undefined; env: NodeJS.ProcessEnv; json: boolean; out: (s: string) => void; err: (s: string) => void },
): Promise<number> {
  const { config, source } = loadConfig({ path: o.configPath, env: o.env });
  try {
    if (cmd === 'backup') {
      const m = await backup({ dataDir: config.dataDir, configPath: source, file });
      o.out(o.json ? JSON.stringify(m) + '\n' : `backup written to ${file}: ${m.files.join(', ')} (schema ${m.schemaVersion})\n`);
    } else {
      const r = await restore({ dataDir: config.dataDir, configPath: source ?? o.configPath ?? null, file });
      o.out(o.json ? JSON.stringify(r) + '\n' : `restored the backup of ${r.manifest.createdAt} into ${config.dataDir}${r.kept.length ? `; replaced files kept as ${r.kept.join(', ')}` : ''}\n`);
    }
    return 0;
  } catch (e) {
    o.err(`netroot: ${cmd}: ${(e as Error).message}\n`);
    return 1;
  }
}
