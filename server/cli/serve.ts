/** `netroot serve`: load config, start, write the first admin token to a 0600 file, stop cleanly on SIGTERM/SIGINT. */
import { ConfigError, loadConfig } from '../config/load.js';
import { createLogger } from '../log.js';
import { startService } from '../main.js';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { userInfo } from 'node:os';
import { PID_FILE } from '../backup.js';
import { writeInitialToken } from '../auth/initial-token.js';

export interface ServeOptions {
  configPath: string | undefined;
  env: NodeJS.ProcessEnv;
  out: (s: string) => void;
  err: (s: string) => void;
}

export async function serve(o: ServeOptions): Promise<number> {
  let loaded;
  try {
    loaded = loadConfig({ path: o.configPath, env: o.env });
  } catch (e) {
    if (e instanceof ConfigError) {
      o.err(`netroot: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
  const log = createLogger(loaded.config.log);
  for (const w of loaded.warnings) log.warn(w);
  log.info({ source: loaded.source ?? '(embedded defaults)' }, 'configuration loaded');
  let service;
  try {
    service = await startService(loaded.config, {
      log,
      loadConfig: () => loadConfig({ path: o.configPath, env: o.env }).config,
      onAdminToken: (secret) => {
        // The secret itself is never printed: stdout ends up in the journal.
        let file: string;
        try {
          file = writeInitialToken(loaded.config.dataDir, secret);
        } catch (err) {
          log.error({ err }, 'could not write the initial admin API token; make a token with `netroot token create NAME --local`');
          return;
        }
        log.warn({ file }, 'the initial admin API token is in this file (mode 0600)');
        o.out(`\nnetroot: initial admin API token written to ${file} (mode 0600, readable by ${userInfo().username} only); use it with\n  export NETROOT_TOKEN=$(cat ${file})\nand delete the file once the token is kept elsewhere.\n\n`);
      },
    });
  } catch (e) {
    log.fatal({ err: e }, 'netroot could not start');
    o.err(`netroot: ${(e as Error).message}\n`);
    return e instanceof ConfigError ? 2 : 1;
  }
  // A pid file tells `netroot restore` that the service runs on this data dir.
  const pidFile = join(loaded.config.dataDir, PID_FILE);
  writeFileSync(pidFile, `${process.pid}\n`);
  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      log.info({ signal }, 'stopping');
      process.off('SIGHUP', onHup);
      void svc.close().then(() => {
        rmSync(pidFile, { force: true });
        log.info('stopped');
        resolve(0);
      });
    };
    const svc = service;
    const onHup = () => {
      log.info('SIGHUP: reloading the configuration');
      svc.reload().catch((err: unknown) => log.error({ err: (err as Error).message }, 'reload refused; the running configuration is kept'));
    };
    process.on('SIGHUP', onHup);
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
}
