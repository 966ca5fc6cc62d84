import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decideBoot } from './decision.js';
import { renderIpxeScript } from './ipxe.js';
import { renderPxelinuxConfig, pxelinuxConfigPath } from './pxelinux.js';
import { fixtureTarget } from './fixture.test-util.js';

const mac = '52:54:00:12:34:56';
const ipxe = { baseUrl: 'http://10.52.0.1:8080/', nfsServer: '10.52.0.1' };

test('golden: iPXE script of a node', () => {
  assert.equal(
    renderIpxeScript(decideBoot(mac, fixtureTarget()), ipxe),
    `#!ipxe
# netroot: node1.lab.example (52:54:00:12:34:56) image debian12 version 3
echo netroot: booting node1.lab.example with debian12/3
kernel http://10.52.0.1:8080/boot/52:54:00:12:34:56/3/vmlinuz initrd=initrd.img root=nfs:10.52.0.1:/var/lib/netroot/images/debian12/3/root ro ip=dhcp rd.neednet=1 netroot.fqdn=node1.lab.example netroot.image=debian12 netroot.version=3 netroot.server=10.52.0.1:8080 net.ifnames=0 console=ttyS0,115200 quiet || goto failed
initrd http://10.52.0.1:8080/boot/52:54:00:12:34:56/3/initrd.img || goto failed
boot || goto failed
:failed
echo netroot: boot of node1.lab.example failed
exit 1
`,
  );
});

test('golden: iPXE refusals for unknown, disabled and image-less MACs', () => {
  assert.equal(
    renderIpxeScript(decideBoot(mac, null), ipxe),
    `#!ipxe
echo netroot: 52:54:00:12:34:56 is not registered with netroot (recorded as discovered)
echo netroot: not booting from the network
exit 1
`,
  );
  assert.match(renderIpxeScript(decideBoot(mac, fixtureTarget({ enabled: false })), ipxe), /^echo netroot: node node1\.lab\.example \(52:54:00:12:34:56\) is disabled$/m);
  assert.match(renderIpxeScript(decideBoot(mac, fixtureTarget({}, null)), ipxe), /image debian12 has no published version/);
  assert.match(renderIpxeScript(decideBoot(mac, fixtureTarget({ image: null }, null)), ipxe), /no image is assigned/);
  assert.match(
    renderIpxeScript(decideBoot(mac, { ...fixtureTarget({}, null), requestedVersion: '2' }), ipxe),
    /version 2 of image debian12 is not available \(removed or not ready\): fetch the boot script again/,
  );
});

test('one boot = one version: every URL and the command line name the version the script was made with', () => {
  const script = renderIpxeScript(decideBoot(mac, fixtureTarget({}, { version: '20261126-101500' })), ipxe);
  const urls = [...script.matchAll(/http:\/\/\S+/g)].map((m) => m[0]);
  assert.deepEqual(urls, ['http://10.52.0.1:8080/boot/52:54:00:12:34:56/20261126-101500/vmlinuz', 'http://10.52.0.1:8080/boot/52:54:00:12:34:56/20261126-101500/initrd.img']);
  assert.match(script, / netroot\.image=debian12 netroot\.version=20261126-101500 /);
  assert.match(script, / netroot\.fqdn=node1\.lab\.example /, 'the node knows its FQDN whatever DHCP gave it');
});

test('iPXE base URL must be http:// (Debian iPXE has no HTTPS)', () => {
  assert.throws(() => renderIpxeScript(decideBoot(mac, fixtureTarget()), { ...ipxe, baseUrl: 'https://x' }), /baseUrl: must be an http:\/\/ URL/);
});

test('golden: pxelinux.cfg/01-<mac> of a pxelinux node', () => {
  assert.equal(pxelinuxConfigPath(mac), 'pxelinux.cfg/01-52-54-00-12-34-56');
  assert.equal(
    renderPxelinuxConfig(decideBoot(mac, fixtureTarget({ bootMode: 'pxelinux' })), { nfsServer: '10.52.0.1', cmdline: { nfs: 'nfs4', ip: 'bootif' } }),
    `# netroot: node1.lab.example (52:54:00:12:34:56) image debian12 version 3
DEFAULT netroot
PROMPT 0
TIMEOUT 0
LABEL netroot
  KERNEL boot/01-52-54-00-12-34-56/3/vmlinuz
  INITRD boot/01-52-54-00-12-34-56/3/initrd.img
  APPEND root=nfs4:10.52.0.1:/var/lib/netroot/images/debian12/3/root ro ip=dhcp BOOTIF=01-52-54-00-12-34-56 rd.neednet=1 netroot.fqdn=node1.lab.example netroot.image=debian12 netroot.version=3 net.ifnames=0 console=ttyS0,115200 quiet
`,
  );
});

test('golden: pxelinux config of a disabled node boots the local disk', () => {
  assert.equal(
    renderPxelinuxConfig(decideBoot(mac, fixtureTarget({ enabled: false })), { nfsServer: '10.52.0.1' }),
    `DEFAULT local
PROMPT 0
TIMEOUT 0
SAY netroot: node node1.lab.example (52:54:00:12:34:56) is disabled
LABEL local
  LOCALBOOT 0
`,
  );
});
