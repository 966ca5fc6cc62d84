/** The 5 % loss suite again with the server on the JavaScript path (serve.js native=0). */
import { harnessDefaults } from './harness.js';

harnessDefaults.native = false;
await import('./lossy-netns.test.js');
