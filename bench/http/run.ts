/**
 * HTTP boot benchmark: 100 parallel downloads of one 60 MB initramfs from netroot's boot handler
 * (node:http) and from nginx serving the same file, inside a private network namespace.
 *   node dist/bench/http/run.js            (root; needs nginx-light, curl)
 */
import { createServer } from 'node:http';
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createBootHandler } from '../../pxe/http/boot-handler.js';
import type { BootTarget } from '../../pxe/boot/types.js';

const MAC = '52:54:00:12:34:56';
const [mode, dir, port] = process.argv.slice(2);

/** Child mode: serve dir's initramfs for MAC on 127.0.0.1:port. */
async function serve(d: string, p: number) {
  const target: BootTarget = {
    node: { mac: MAC, fqdn: 'bench.lab', ipv4: '10.52.0.10', bootMode: 'ipxe', enabled: true, kernelArgs: '', image: 'bench' },
    image: { name: 'bench', version: '1', kernelPath: join(d, 'initramfs.img'), initrdPath: join(d, 'initramfs.img'), rootPath: '/srv/root', kernelArgs: '' },
  };
  const handler = createBootHandler({ directory: { lookup: async (m) => (m === MAC ? target : null) }, events: () => {}, discovery: () => {}, baseUrl: 'http://127.0.0.1', nfsServer: '127.0.0.1' });
  createServer(handler).listen(p, '127.0.0.1', () => console.log('http listening'));
}

async function bench() {
  const { Lab } = await import('../../test/helpers/netns.js');
  const base = await mkdtemp(join(tmpdir(), 'netroot-bench-http-'));
  await writeFile(join(base, 'initramfs.img'), randomBytes(60 << 20));
  await mkdir(join(base, 'nginx'));
  await writeFile(
    join(base, 'nginx.conf'),
    `daemon off; user root; worker_processes 2; error_log stderr; pid ${base}/nginx.pid;
events { worker_connections 1024; }
http { access_log off; sendfile on; tcp_nopush on; client_body_temp_path ${base}/nginx; proxy_temp_path ${base}/nginx; fastcgi_temp_path ${base}/nginx; uwsgi_temp_path ${base}/nginx; scgi_temp_path ${base}/nginx;
  server { listen 127.0.0.1:8081; location = /boot/${MAC}/initrd.img { alias ${base}/initramfs.img; } } }
`,
  );
  const lab = await Lab.create('bhttp');
  const stops: (() => Promise<unknown>)[] = [];
  try {
    const ns = await lab.ns('b');
    const ours = ns.start([process.execPath, new URL(import.meta.url).pathname, 'serve', base, '8080']);
    stops.push(() => ours.stop());
    await ours.waitFor(/http listening/);
    const nginx = ns.start(['nginx', '-c', join(base, 'nginx.conf'), '-p', base]);
    stops.push(() => nginx.stop());
    await new Promise((r) => setTimeout(r, 1000));
    const rows: [string, number][] = [];
    for (const [name, p] of [['netroot', 8080], ['nginx', 8081]] as const) {
      const url = `http://127.0.0.1:${p}/boot/${MAC}/initrd.img`;
      const t0 = process.hrtime.bigint();
      await Promise.all(Array.from({ length: 100 }, () => ns.run(['curl', '-sS', '-f', '-o', '/dev/null', url], { timeoutMs: 600_000 })));
      const s = Number(process.hrtime.bigint() - t0) / 1e9;
      rows.push([name, (100 * 60) / s]);
    }
    console.log('| 100 parallel x 60 MB initramfs (MiB/s aggregate) | netroot | nginx | netroot / nginx |');
    console.log('|---|---|---|---|');
    console.log(`| curl over loopback | ${rows[0]![1].toFixed(0)} | ${rows[1]![1].toFixed(0)} | ${(rows[0]![1] / rows[1]![1]).toFixed(2)}x |`);
  } finally {
    for (const s of stops) await s();
    await lab.destroy();
    await rm(base, { recursive: true, force: true });
  }
}

if (mode === 'serve') await serve(dir!, Number(port));
else await bench();
