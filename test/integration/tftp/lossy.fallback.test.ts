/**
 * The lossy suite again on the JavaScript path (TftpServerOptions.native: false), with transfers
 * on two JS worker threads: the fallback when the native addon is not built.
 */
import { harnessDefaults } from './harness.js';

harnessDefaults.native = false;
harnessDefaults.workers = 2;
await import('./lossy.test.js');
