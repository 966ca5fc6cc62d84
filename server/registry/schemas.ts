/** Request shapes for the node registry (create, patch, import). */
import { z } from 'zod';
import { fqdnField, ipv4Field, kernelArgsField, macField, nameField } from './fields.js';

export const bootModeField = z.enum(['ipxe', 'pxelinux']);
export const stateModeField = z.enum(['nfs', 'local']);

export const nodeCreateSchema = z.strictObject({
  mac: macField,
  fqdn: fqdnField,
  ipv4: ipv4Field,
  image: nameField.nullable().default(null),
  pinnedVersion: nameField.nullable().default(null),
  kernelArgs: kernelArgsField.default(''),
  bootMode: bootModeField.default('ipxe'),
  stateMode: stateModeField.default('nfs'),
  enabled: z.boolean().default(true),
});
export type NodeCreate = z.output<typeof nodeCreateSchema>;

export const nodePatchSchema = z.strictObject({
  mac: macField.optional(),
  fqdn: fqdnField.optional(),
  ipv4: ipv4Field.optional(),
  image: nameField.nullable().optional(),
  pinnedVersion: nameField.nullable().optional(),
  kernelArgs: kernelArgsField.optional(),
  bootMode: bootModeField.optional(),
  stateMode: stateModeField.optional(),
  enabled: z.boolean().optional(),
});
export type NodePatch = z.output<typeof nodePatchSchema>;

export const nodeImportSchema = z.array(nodeCreateSchema).min(1).max(100_000);

/** Registering a discovered MAC: the MAC comes from the discovery. */
export const registerDiscoveredSchema = nodeCreateSchema.omit({ mac: true });
