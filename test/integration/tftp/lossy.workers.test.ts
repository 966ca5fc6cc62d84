/** The lossy suite again with transfers on two worker threads (TftpServerOptions.workers). */
import { harnessDefaults } from './harness.js';

harnessDefaults.workers = 2;
await import('./lossy.test.js');
