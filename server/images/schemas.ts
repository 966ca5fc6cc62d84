/** Request shapes for golden hosts and images, validated once at the API edge. */
import { z } from 'zod';
import { kernelArgsField, nameField } from '../registry/fields.js';

const absPath = z
  .string()
  .min(1)
  .max(1024)
  .regex(/^\/[^\0\n\r\t]*$/, { message: 'must be an absolute path without control characters' })
  .refine((p) => !p.split('/').includes('..'), { message: "must not contain '..'" });

const hostAddress = z
  .string()
  .min(1)
  .max(253)
  .regex(/^[A-Za-z0-9.:-]+$/, { message: 'a host name or IP address' });

export const goldenCreateSchema = z.strictObject({
  name: nameField,
  address: hostAddress,
  port: z.number().int().min(1).max(65535).default(22),
  user: z.string().regex(/^[a-z_][a-z0-9_.-]{0,31}$/, { message: 'a Unix user name' }).default('root'),
  sourcePath: absPath.default('/'),
});

export const goldenPatchSchema = goldenCreateSchema.omit({ name: true }).partial();

export const pinSchema = z.strictObject({
  fingerprint: z.string().regex(/^SHA256:[A-Za-z0-9+/]{43}$/, { message: 'an OpenSSH SHA256 fingerprint (SHA256:...)' }),
});

export const imageSettingsSchema = z.strictObject({
  /** rsync excludes beyond the seed's /proc /sys /dev /media /mnt /tmp /home /run /srv. */
  excludes: z.array(absPath).max(200).default([]),
  rwtab: z.array(z.strictObject({ type: z.enum(['dirs', 'files', 'empty']), path: absPath })).max(200).default([]),
  statetab: z.array(absPath).max(200).default([]),
  kernelArgs: kernelArgsField.default(''),
  drivers: z.array(z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, { message: 'a kernel module name' })).max(100).default([]),
  state: z
    .discriminatedUnion('kind', [
      z.strictObject({ kind: z.literal('diskless') }),
      z.strictObject({ kind: z.literal('local'), rwLabel: z.string().regex(/^[A-Za-z0-9_-]{1,16}$/).default('stateless-rw'), stateLabel: z.string().regex(/^[A-Za-z0-9_-]{1,16}$/).default('stateless-state') }),
    ])
    .default({ kind: 'diskless' }),
  hostKeys: z
    .enum(['state', 'keep'])
    .default('state')
    .describe("SSH host keys: 'state' (default) generates each node's own on its first boot, kept in its state directory; the image holds empty placeholders. 'keep' gives every node the golden host's keys (shared, in the image)"),
  selinux: z
    .enum(['permissive', 'disabled', 'enforcing'])
    .default('permissive')
    .describe("SELinux mode written to the image's /etc/selinux/config (roots that have one). 'permissive' (default): netroot's NFS exports carry no SELinux labels, so on a node the root and the state mount are nfs_t and enforcing would deny confined services their files; denials are logged. 'disabled' also adds selinux=0 to the kernel command line. 'enforcing' only where the root is served as labeled NFS"),
  initramfs: z.enum(['golden', 'chroot']).default('golden'),
  kernel: z.string().regex(/^[A-Za-z0-9._+-]{1,100}$/, { message: 'a kernel version' }).optional(),
});
export type ImageSettingsInput = z.output<typeof imageSettingsSchema>;

export const imageCreateSchema = z.strictObject({
  name: nameField,
  host: nameField.nullable().default(null),
  settings: imageSettingsSchema.default(imageSettingsSchema.parse({})),
});

export const imagePatchSchema = z.strictObject({
  host: nameField.nullable().optional(),
  settings: imageSettingsSchema.optional(),
});
