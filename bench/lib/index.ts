/** What every bench shares: verification, CPU/RSS metering, rounds and order, the report, netroot serve. */
export * from './cpugroup.js';
export * from './lab.js';
export * from './netroot.js';
export * from './procstat.js';
export * from './report.js';
export * from './rounds.js';
export * from './verify.js';

