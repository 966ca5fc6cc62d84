/** netroot's NFS exports: the table model, its renderers, the kernel and Ganesha backends, and
 * the manager that keeps the served table equal to the registry. */
export type { Access, ApplyResult, ExportClient, ExportConflict, ExportEntry, ExportInput, ExportNode, ExportTable, NfsBackend, RootExport, StateMode } from './types.js';
export { ExportInputError } from './errors.js';
export { validateExportPath, validateFqdn, validateIPv4, validateNetwork, validateOptions } from './validate.js';
export { DEFAULT_ROOT_OPTIONS, DEFAULT_STATE_OPTIONS, buildExportTable, diffTables, exportPairs, flattenTable, pairKey, type TableDiff } from './table.js';
export { renderKernelExports, parseExportsFile, parseEtab } from './kernel-format.js';
export { renderGaneshaExports, renderGaneshaMainConfig, parseGaneshaExportIds, parseGaneshaExports, type GaneshaMainConfigOptions } from './ganesha-format.js';
export { diffText, type TextDiff } from './textdiff.js';
export { writeFileAtomic } from './atomic.js';
export { KernelNfsBackend, KERNEL_DEFAULTS, type KernelBackendOptions } from './kernel.js';
export { GaneshaBackend, GANESHA_DEFAULTS, type GaneshaBackendOptions } from './ganesha.js';
export { ExportManager, type DryRunResult, type ExportManagerOptions, type ExportStatus } from './manager.js';
