/**
 * Request bodies: how much of one netroot reads, and when it reads none at all. A request is
 * refused on its headers alone when it can be (no token, a declared length past the route's cap),
 * and its body is then not read: the answer is the last on the connection, closed once the answer
 * is sent. So a client without a token cannot make the server read or hold a
 * large body. A body that no route uses (a GET's, the nodes' "booted" report) is read and thrown
 * away up to a small cap, and the connection is dropped past it.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';

/** Bytes of a body nobody reads (`{}` from a client that always sends one) that are thrown away. */
export const UNUSED_BODY_LIMIT = 4096;

/** The body's length as the headers declare it: 0 = no body, null = not known (chunked). */
export function declaredLength(req: IncomingMessage): number | null {
  if (req.headers['transfer-encoding'] !== undefined) return null;
  const cl = req.headers['content-length'];
  return cl === undefined ? 0 : Number(cl);
}

/** Part of the body has not been read yet. */
export function bodyPending(req: IncomingMessage): boolean {
  return declaredLength(req) !== 0 && !req.complete;
}

/** After a refusal, what is still read of the body at most (thrown away) before the connection is dropped. */
export const LINGER_BYTES = 1 << 20;
export const LINGER_MS = 2000;

/**
 * Makes this response the last on its connection, which is closed after it without reading the
 * rest of the body. The close lingers (as nginx's lingering_close): FIN after the answer, then up
 * to LINGER_BYTES / LINGER_MS of the body read and thrown away before the socket is destroyed.
 * Destroying it at once, with unread bytes queued, makes the kernel send a RST that can discard
 * the answer itself before the client reads it.
 */
export function closeAfterAnswer(req: IncomingMessage, res: ServerResponse): void {
  if (res.headersSent) return;
  res.setHeader('Connection', 'close');
  const socket = req.socket;
  // Node closes a "Connection: close" response's socket with destroySoon() once it is sent.
  socket.destroySoon = function lingeringClose(this: Socket) {
    if (req.complete) return Socket.prototype.destroySoon.call(socket);
    socket.end();
    let seen = 0;
    const drop = () => {
      clearTimeout(timer);
      socket.destroy();
    };
    const timer = setTimeout(drop, LINGER_MS);
    timer.unref();
    req.on('data', (c: Buffer) => {
      seen += c.length;
      if (seen > LINGER_BYTES) drop();
    });
    req.once('end', drop);
    socket.once('close', () => clearTimeout(timer));
  };
}

/**
 * Reads and throws away a body the route does not use. false: the declared length is past cap
 * and nothing was read (the caller refuses the request). A chunked body that runs past cap
 * drops the connection.
 */
export function discardBody(req: IncomingMessage, cap: number): boolean {
  const n = declaredLength(req);
  if (n === 0 || req.complete) return true;
  if (n !== null && n > cap) return false;
  let seen = 0;
  req.on('data', (c: Buffer) => {
    seen += c.length;
    if (seen > cap) req.socket.destroy();
  });
  req.resume();
  return true;
}
