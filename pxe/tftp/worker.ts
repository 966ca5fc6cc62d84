/**
 * Worker-thread entry: runs the transfers the main thread hands over (see pool.ts). Each
 * transfer owns its socket here, so sending, ACK handling and file reads of many transfers spread
 * over several threads, each scheduled on its own (one event loop preempted by a woken client
 * does not stall every other transfer).
 */
import { parentPort } from 'node:worker_threads';
import { runTransfer } from './engine.js';
import type { ToWorker, FromWorker } from './pool.js';
import type { ReadTransfer } from './transfer.js';

const port = parentPort;
if (!port) throw new Error('tftp worker: must run in a worker thread');

const running = new Map<number, ReadTransfer | null>();
const aborted = new Map<number, string>();

const post = (m: FromWorker) => port.postMessage(m);

port.on('message', (m: ToWorker) => {
  if (m.type === 'abort') {
    const t = running.get(m.id);
    if (t) t.abort(m.reason);
    else if (running.has(m.id)) aborted.set(m.id, m.reason);
    return;
  }
  running.set(m.id, null);
  runTransfer(m.job, m.src, (t) => {
    running.set(m.id, t);
    const why = aborted.get(m.id);
    if (why !== undefined) t.abort(why);
  }).then(
    (result) => post({ type: 'done', id: m.id, result }),
    (e: Error) => post({ type: 'failed', id: m.id, error: e.message }),
  ).finally(() => {
    running.delete(m.id);
    aborted.delete(m.id);
  });
});
