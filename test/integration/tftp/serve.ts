/**
 * Runnable TFTP server for tests that need it in another process (e.g. inside a network
 * namespace):  node dist/test/integration/tftp/serve.js <root> <host> <port> [maxWindowsize]
 * Prints "tftp listening <host>:<port>" once bound, then one "record <json>" line per transfer.
 * Stops on SIGTERM.
 */
import { TftpServer } from '../../../pxe/tftp/server.js';
import { createStaticRoot } from '../../../pxe/tftp/static-root.js';
import { FileCache } from '../../../pxe/tftp/cache.js';

const [root, host = '127.0.0.1', port = '0', win] = process.argv.slice(2);
if (!root) {
  console.error('usage: serve.js <root> [host] [port] [maxWindowsize]');
  process.exit(2);
}
const server = new TftpServer({
  handler: await createStaticRoot({ root, cache: new FileCache() }),
  host,
  port: Number(port),
  maxPerClient: 64,
  ...(win ? { maxWindowsize: Number(win) } : {}),
  onTransfer: (r) => process.stdout.write(`record ${JSON.stringify(r)}\n`),
});
const a = await server.start();
process.stdout.write(`tftp listening ${a.address}:${a.port}\n`);
process.on('SIGTERM', () => {
  void server.stop().then(() => process.exit(0));
});
