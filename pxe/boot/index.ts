/** Boot policy and what it renders: decisions, kernel command line, iPXE and pxelinux, loaders, TFTP files. */
export type { BootMode, BootNode, BootImage, BootTarget, BootDirectory } from './types.js';
export { BootEventKind } from './events.js';
export type { BootEvent, EventSink, Discovery, DiscoverySink } from './events.js';
export { decideBoot } from './decision.js';
export type { BootDecision, Refusal } from './decision.js';
export { kernelCmdline, parseKernelArgs, mergeArgs, KernelArgsError } from './cmdline.js';
export type { CmdlineOptions } from './cmdline.js';
export { renderIpxeScript, renderIpxeRefusal, bootUrl, KERNEL_NAME, INITRD_NAME } from './ipxe.js';
export type { IpxeOptions } from './ipxe.js';
export { renderPxelinuxConfig, pxelinuxConfigPath, pxelinuxFilePath } from './pxelinux.js';
export type { PxelinuxOptions } from './pxelinux.js';
export { DEFAULT_LOADERS, discoverLoaders, describeMissing, loadLoaders, loaderForArch } from './loaders.js';
export type { LoaderSpec, LoaderReport, FoundLoader, MissingLoader } from './loaders.js';
export { createBootTftpHandler, macOfTftpPath } from './tftp-files.js';
export type { BootTftpOptions } from './tftp-files.js';
export { createTftpReporter, tftpEvent } from './tftp-events.js';
