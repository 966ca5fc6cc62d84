/** The fuzz suite again with transfers on two worker threads (TftpServerOptions.workers). */
import { harnessDefaults } from './harness.js';

harnessDefaults.workers = 2;
await import('./fuzz.test.js');
