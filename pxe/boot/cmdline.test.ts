import { test } from 'node:test';
import assert from 'node:assert/strict';
import { kernelCmdline, KernelArgsError, mergeArgs, parseKernelArgs } from './cmdline.js';
import { fixtureTarget } from './fixture.test-util.js';

const t = fixtureTarget() as Required<ReturnType<typeof fixtureTarget>> & { image: NonNullable<ReturnType<typeof fixtureTarget>['image']> };

test('golden: default nfs: root, ro, ip=dhcp, rd.neednet=1, image args then node args (node wins)', () => {
  assert.equal(
    kernelCmdline(t, '10.52.0.1'),
    'root=nfs:10.52.0.1:/var/lib/netroot/images/debian12/3/root ro ip=dhcp rd.neednet=1 netroot.fqdn=node1.lab.example netroot.image=debian12 netroot.version=3 net.ifnames=0 console=ttyS0,115200 quiet',
  );
});

test('golden: nfs4 with options, BOOTIF, initrd= for UEFI', () => {
  assert.equal(
    kernelCmdline(t, 'netroot.lab', { nfs: 'nfs4', nfsOptions: 'vers=4.2', ip: 'bootif', initrdName: 'initrd.img', reportTo: 'netroot.lab:8080' }),
    'initrd=initrd.img root=nfs4:netroot.lab:/var/lib/netroot/images/debian12/3/root:vers=4.2 ro ip=dhcp BOOTIF=01-52-54-00-12-34-56 rd.neednet=1 netroot.fqdn=node1.lab.example netroot.image=debian12 netroot.version=3 netroot.server=netroot.lab:8080 net.ifnames=0 console=ttyS0,115200 quiet',
  );
});

test('node and image args cannot set reserved keys (a second root=, rw, ip, BOOTIF, initrd)', () => {
  for (const bad of ['root=/dev/sda1', 'rw', 'ip=10.0.0.9::10.0.0.1:255.255.255.0', 'BOOTIF=01-00-00-00-00-00-01', 'initrd=evil', 'nfsroot=1.2.3.4:/x', 'rd.neednet=0', 'ro', 'netroot.fqdn=other.lab.example', 'netroot.version=1', 'netroot.image=x', 'netroot.server=evil:80']) {
    assert.throws(() => kernelCmdline(fixtureTarget({ kernelArgs: `quiet ${bad}` }) as typeof t, '10.52.0.1'), (e: unknown) => e instanceof KernelArgsError && e.field === 'node.kernelArgs' && e.message.includes('set by netroot'), bad);
  }
  assert.throws(() => kernelCmdline(fixtureTarget({}, { kernelArgs: 'root=nfs:evil:/x' }) as typeof t, '10.52.0.1'), /^KernelArgsError: image\.kernelArgs|image\.kernelArgs: argument "root=nfs:evil:\/x"/);
});

test('characters that would break an iPXE line or a config are refused, naming the field', () => {
  for (const bad of ['a=${net0/ip}', 'x="y z"', "q='1'", 'a\\b', 'a||b', 'é=1', 'a\x01b', '=x']) {
    assert.throws(() => parseKernelArgs('node.kernelArgs', bad), (e: unknown) => e instanceof KernelArgsError && e.field === 'node.kernelArgs', bad);
  }
});

test('merge: the node replaces every image argument with the same key, multi-valued keys included', () => {
  assert.deepEqual(mergeArgs(['console=tty0', 'console=ttyS1', 'quiet', 'a_b=1'], ['console=ttyS0', 'a-b=2']), ['quiet', 'console=ttyS0', 'a-b=2']);
});

test('server, root path and length are validated', () => {
  assert.throws(() => kernelCmdline(t, 'bad host!'), /^KernelArgsError: server:|server: not an IP/);
  assert.throws(() => kernelCmdline(fixtureTarget({}, { rootPath: 'relative/root' }) as typeof t, '10.52.0.1'), /image\.rootPath/);
  assert.throws(() => kernelCmdline(fixtureTarget({ kernelArgs: `x=${'a'.repeat(2100)}` }) as typeof t, '10.52.0.1'), /more than 2048/);
});
