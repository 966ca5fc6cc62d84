/** The protocol suite again with transfers on two worker threads (TftpServerOptions.workers). */
import { harnessDefaults } from './harness.js';

harnessDefaults.workers = 2;
await import('./protocol.test.js');
