import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultDrivers, parseModulesDep } from './drivers.js';

// modules.dep of an EL9 kernel (paths relative to /lib/modules/<kver>, compressed modules).
const DEP = [
  'kernel/drivers/net/ethernet/intel/e1000e/e1000e.ko.xz:',
  'kernel/drivers/net/virtio_net.ko.xz: kernel/net/core/failover.ko.xz kernel/drivers/net/net_failover.ko.xz',
  'kernel/drivers/net/net_failover.ko.xz: kernel/net/core/failover.ko.xz',
  'kernel/net/core/failover.ko.xz:',
  'kernel/drivers/net/wireless/intel/iwlwifi/iwlwifi.ko.xz: kernel/net/wireless/cfg80211.ko.xz',
  'kernel/drivers/scsi/virtio_scsi.ko.xz:',
  'kernel/drivers/ata/ahci.ko.xz: kernel/drivers/ata/libahci.ko.xz',
  'kernel/drivers/ata/libahci.ko.xz:',
  'kernel/drivers/nvme/host/nvme.ko.xz: kernel/drivers/nvme/host/nvme-core.ko.xz',
  'kernel/drivers/nvme/host/nvme-core.ko.xz:',
  'kernel/drivers/virtio/virtio_pci.ko.xz:',
  'kernel/fs/nfs/nfsv4.ko.xz: kernel/fs/nfs/nfs.ko.xz',
  'kernel/fs/xfs/xfs.ko.xz:',
  'kernel/drivers/gpu/drm/virtio/virtio-gpu.ko.xz:',
  'kernel/sound/pci/hda/snd-hda-intel.ko.xz:',
].join('\n');

test('default drivers: loaded network and storage drivers the image kernel has; no wireless, fs, gpu or sound', () => {
  const loaded = ['e1000e', 'virtio_net', 'net_failover', 'failover', 'iwlwifi', 'virtio_scsi', 'ahci', 'libahci', 'nvme', 'nvme_core',
    'virtio_pci', 'nfsv4', 'xfs', 'virtio_gpu', 'snd_hda_intel', 'not_in_this_kernel'];
  assert.deepEqual(defaultDrivers(loaded, parseModulesDep(DEP)),
    ['ahci', 'e1000e', 'libahci', 'net_failover', 'nvme', 'nvme_core', 'virtio_net', 'virtio_pci', 'virtio_scsi']);
});

test('parseModulesDep: - and _ alike, uncompressed modules too', () => {
  const m = parseModulesDep('kernel/drivers/nvme/host/nvme-core.ko:\nkernel/drivers/net/tun.ko:\nbad line\n');
  assert.equal(m.get('nvme_core'), 'kernel/drivers/nvme/host/nvme-core.ko');
  assert.equal(m.get('tun'), 'kernel/drivers/net/tun.ko');
  assert.equal(m.size, 2);
});
