/** HTTP boot routes (iPXE scripts, kernel and initrd, "booted" reports), framework-free. */
export { createBootHandler, routeOf } from './boot-handler.js';
export type { BootHandlerOptions } from './boot-handler.js';
export { sendFile } from './send-file.js';
export type { SentFile } from './send-file.js';
export { parseRange, etagOf, noneMatch, ifRangeAllows } from './range.js';
