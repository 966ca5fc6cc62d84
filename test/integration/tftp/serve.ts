/**
 * Runnable TFTP server for tests that need it in another process (e.g. inside a network
 * namespace):  node dist/test/integration/tftp/serve.js <root> <host> <port> [name=number ...]
 * where name is a numeric TftpServerOptions field (maxWindowsize, timeoutMs, retries, ...), or
 * native=0 for the JavaScript data path.
 * Prints "tftp listening <host>:<port>" once bound, then one "record <json>" line per transfer.
 * Stops on SIGTERM.
 */
import { TftpServer } from '../../../pxe/tftp/server.js';
import { createStaticRoot } from '../../../pxe/tftp/static-root.js';
import { FileCache } from '../../../pxe/tftp/cache.js';

const [root, host = '127.0.0.1', port = '0', ...rest] = process.argv.slice(2);
if (!root) {
  console.error('usage: serve.js <root> [host] [port] [name=number ...]');
  process.exit(2);
}
const extra: Record<string, number | boolean> = {};
for (const kv of rest) {
  const [k, v] = kv.split('=');
  if (!k || v === undefined || !/^\d+$/.test(v)) throw new Error(`serve.js: bad option ${kv}`);
  extra[k] = k === 'native' ? v !== '0' : Number(v);
}
const server = new TftpServer({
  handler: await createStaticRoot({ root, cache: new FileCache() }),
  host,
  port: Number(port),
  maxPerClient: 64,
  ...extra,
  onTransfer: (r) => process.stdout.write(`record ${JSON.stringify(r)}\n`),
});
const a = await server.start();
process.stdout.write(`tftp listening ${a.address}:${a.port}\n`);
process.stdout.write(`tftp data path ${server.dataPath}\n`);
process.on('SIGTERM', () => {
  void server.stop().then(() => process.exit(0));
});
