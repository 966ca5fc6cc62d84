/** The clients suite again with transfers on two threads (TftpServerOptions.workers: native threads). */
import { harnessDefaults } from './harness.js';

harnessDefaults.workers = 2;
await import('./clients.test.js');
