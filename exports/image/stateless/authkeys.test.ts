import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, readFile, rm, stat, symlink, writeFile, chown, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  authorizedKeysFiles, dropKeys, expandAuthorizedKeysFile, keyBlob, parseAuthorizedKeysFile, parsePasswd, removeAuthorizedKeys,
} from './authkeys.js';

const NETROOT = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFnetrootnetrootnetrootnetrootnetrootnetroot1 netroot';
const ADMIN = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAdminAdminAdminAdminAdminAdminAdminAdmin12 admin@desk';
const RSA = 'ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQCotherotherotherotherother ops';

test('passwd: users with an absolute home; NIS and broken lines skipped', () => {
  assert.deepEqual(parsePasswd('root:x:0:0:root:/root:/bin/bash\n+::::::\nsvc:x:990:990::/var/lib/svc:/bin/sh\nbad:x:y:0::/x:/bin/sh\nnohome:x:5:5::relative:/bin/sh\n'), [
    { name: 'root', uid: 0, home: '/root' },
    { name: 'svc', uid: 990, home: '/var/lib/svc' },
  ]);
});

test('AuthorizedKeysFile: every value, = form, quotes, none, comments', () => {
  const conf = [
    '#AuthorizedKeysFile /commented/out',
    'AuthorizedKeysFile .ssh/authorized_keys /etc/ssh/keys/%u',
    'Match User backup',
    '  AuthorizedKeysFile="/srv/keys/%U" # per uid',
    'Match User nobody',
    '  AuthorizedKeysFile none',
  ].join('\n');
  assert.deepEqual(parseAuthorizedKeysFile(conf), ['.ssh/authorized_keys', '/etc/ssh/keys/%u', '/srv/keys/%U']);
});

test('tokens %h %u %U %% expand; a relative path is under the home; unknown tokens are skipped', () => {
  const u = { name: 'svc', uid: 990, home: '/var/lib/svc' };
  assert.equal(expandAuthorizedKeysFile('.ssh/authorized_keys', u), '/var/lib/svc/.ssh/authorized_keys');
  assert.equal(expandAuthorizedKeysFile('%h/.ssh/k', u), '/var/lib/svc/.ssh/k');
  assert.equal(expandAuthorizedKeysFile('/etc/ssh/keys/%u.%U%%', u), '/etc/ssh/keys/svc.990%');
  assert.equal(expandAuthorizedKeysFile('/k/%C', u), null);
});

test('dropKeys removes the key with options or another comment, keeps every other line as it was', () => {
  const text = [
    '# keys for root',
    ADMIN,
    NETROOT,
    `from="10.0.0.5",no-pty,command="echo a b" ${NETROOT.split(' ').slice(0, 2).join(' ')} another comment`,
    RSA,
    '',
  ].join('\n');
  const r = dropKeys(text, new Set([keyBlob(NETROOT)]));
  assert.equal(r.dropped, 2);
  assert.equal(r.text, ['# keys for root', ADMIN, RSA, ''].join('\n'));
  assert.deepEqual(dropKeys(text, new Set(['AAAAnotthere'])), { text, dropped: 0 });
  // A comment mentioning the blob is not a key line.
  assert.equal(dropKeys(`# was ${keyBlob(NETROOT)}\n`, new Set([keyBlob(NETROOT)])).dropped, 0);
  assert.throws(() => keyBlob('not a key'), /not an OpenSSH public key/);
});

test('removeAuthorizedKeys: root\'s, authorized_keys2, other users\', sshd_config paths, through symlinks; owner and mode kept', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'netroot-authkeys-'));
  const root = join(dir, 'root');
  const put = async (rel: string, text: string, mode = 0o600) => {
    await mkdir(join(root, rel, '..'), { recursive: true });
    await writeFile(join(root, rel), text);
    await chmod(join(root, rel), mode);
  };
  try {
    await put('etc/passwd', 'root:x:0:0:root:/root:/bin/bash\nsvc:x:990:990::/var/lib/svc:/bin/sh\n', 0o644);
    await put('etc/ssh/sshd_config', 'Include /etc/ssh/sshd_config.d/*.conf\n');
    await put('etc/ssh/sshd_config.d/keys.conf', 'AuthorizedKeysFile .ssh/authorized_keys /etc/ssh/authorized/%u\n');
    await put('root/.ssh/authorized_keys', `${ADMIN}\n${NETROOT}\n`);
    await put('root/.ssh/authorized_keys2', `${NETROOT}\n`);
    await put('var/lib/svc/.ssh/authorized_keys', `${RSA}\n${NETROOT}\n`, 0o640);
    await chown(join(root, 'var/lib/svc/.ssh/authorized_keys'), 990, 990);
    await put('etc/ssh/authorized/svc', `${NETROOT}\n${ADMIN}\n`);
    // An absolute symlink inside the root: followed inside the root, never to the server's file.
    await put('srv/keys/root', `${NETROOT}\n`);
    await mkdir(join(root, 'etc/ssh/authorized'), { recursive: true });
    await symlink('/srv/keys/root', join(root, 'etc/ssh/authorized/root'));
    assert.deepEqual(await authorizedKeysFiles(root), [
      '/etc/ssh/authorized/root', '/etc/ssh/authorized/svc', '/root/.ssh/authorized_keys', '/root/.ssh/authorized_keys2',
      '/var/lib/svc/.ssh/authorized_keys', '/var/lib/svc/.ssh/authorized_keys2',
    ]);

    const changed = await removeAuthorizedKeys(root, [NETROOT]);
    assert.deepEqual(changed.sort(), ['/etc/ssh/authorized/svc', '/root/.ssh/authorized_keys', '/root/.ssh/authorized_keys2', '/srv/keys/root', '/var/lib/svc/.ssh/authorized_keys']);
    const read = (rel: string) => readFile(join(root, rel), 'utf8');
    assert.equal(await read('root/.ssh/authorized_keys'), `${ADMIN}\n`);
    assert.equal(await read('root/.ssh/authorized_keys2'), '');
    assert.equal(await read('var/lib/svc/.ssh/authorized_keys'), `${RSA}\n`);
    assert.equal(await read('etc/ssh/authorized/svc'), `${ADMIN}\n`);
    assert.equal(await read('srv/keys/root'), '');
    const st = await stat(join(root, 'var/lib/svc/.ssh/authorized_keys'));
    assert.deepEqual([st.uid, st.gid, st.mode & 0o777], [990, 990, 0o640]);
    assert.equal((await stat(join(root, 'root/.ssh/authorized_keys'))).mode & 0o777, 0o600);
    // Nothing left to do on a second run.
    assert.deepEqual(await removeAuthorizedKeys(root, [NETROOT]), []);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
