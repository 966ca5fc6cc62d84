#!/usr/bin/env node
// Thin launcher: the CLI lives in the compiled TypeScript (npm run build).
import { main } from '../dist/server/cli/main.js';

main(process.argv.slice(2), process.env).then(
  (code) => { process.exitCode = code; },
  (err) => { console.error(`netroot: ${err instanceof Error ? err.message : String(err)}`); process.exitCode = 1; },
);
