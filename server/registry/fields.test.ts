import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nodeCreateSchema, nodeImportSchema, nodePatchSchema } from './schemas.js';
import { parseInput } from '../validate.js';
import { AppError } from '../errors.js';

const ok = { mac: '52-54-00-AB-CD-01', fqdn: 'Node01.Lab.Example.', ipv4: '10.0.0.5' };

test('create normalises MAC and FQDN and fills defaults', () => {
  assert.deepEqual(parseInput(nodeCreateSchema, ok), {
    mac: '52:54:00:ab:cd:01',
    fqdn: 'node01.lab.example',
    ipv4: '10.0.0.5',
    image: null,
    pinnedVersion: null,
    kernelArgs: '',
    bootMode: 'ipxe',
    stateMode: 'nfs',
    enabled: true,
  });
});

function fails(schema: Parameters<typeof parseInput>[0], body: unknown, field: string, msg: RegExp) {
  assert.throws(
    () => parseInput(schema, body),
    (e: unknown) => e instanceof AppError && e.code === 'invalid' && e.field === field && msg.test(e.message),
    `${JSON.stringify(body)} -> ${field}`,
  );
}

test('every bad field is named', () => {
  fails(nodeCreateSchema, { ...ok, mac: 'nope' }, 'mac', /not a MAC/);
  fails(nodeCreateSchema, { ...ok, mac: '01:00:5e:00:00:01' }, 'mac', /multicast/);
  fails(nodeCreateSchema, { ...ok, fqdn: 'node01' }, 'fqdn', /fully qualified/);
  fails(nodeCreateSchema, { ...ok, fqdn: 'bad_name.example' }, 'fqdn', /RFC 1123/);
  fails(nodeCreateSchema, { ...ok, fqdn: '-a.example' }, 'fqdn', /RFC 1123/);
  fails(nodeCreateSchema, { ...ok, fqdn: `${'a'.repeat(64)}.example` }, 'fqdn', /RFC 1123/);
  fails(nodeCreateSchema, { ...ok, fqdn: '../etc.example' }, 'fqdn', /RFC 1123/);
  fails(nodeCreateSchema, { ...ok, ipv4: '10.0.0.256' }, 'ipv4', /IPv4/);
  fails(nodeCreateSchema, { ...ok, ipv4: '127.0.0.1' }, 'ipv4', /unicast/);
  fails(nodeCreateSchema, { ...ok, ipv4: 7 }, 'ipv4', /expected string/);
  fails(nodeCreateSchema, { ...ok, image: '../x' }, 'image', /a-z/);
  fails(nodeCreateSchema, { ...ok, bootMode: 'grub' }, 'bootMode', /ipxe/);
  fails(nodeCreateSchema, { ...ok, enabled: 'yes' }, 'enabled', /boolean/);
  fails(nodeCreateSchema, { ...ok, kernelArgs: 'root=/dev/sda1' }, 'kernelArgs', /set by netroot/);
  fails(nodeCreateSchema, { ...ok, kernelArgs: 'quiet\nshell' }, 'kernelArgs', /not allowed/);
  fails(nodeCreateSchema, { ...ok, kernelArgs: 'ip=10.0.0.5::10.0.0.1:255.255.255.0:n:eth0:none' }, 'kernelArgs', /set by netroot/);
  fails(nodeCreateSchema, { ...ok, kernelArgs: 'rw' }, 'kernelArgs', /set by netroot/);
  fails(nodeCreateSchema, { ...ok, kernelArgs: 'x=${net0/ip}' }, 'kernelArgs', /not allowed/);
  fails(nodeCreateSchema, { ...ok, color: 'red' }, 'color', /unknown field/);
  fails(nodeCreateSchema, { fqdn: 'a.b', ipv4: '10.0.0.1' }, 'mac', /required/);
  fails(nodePatchSchema, { fqdn: 'x' }, 'fqdn', /fully qualified/);
  fails(nodeImportSchema, [ok, { ...ok, mac: 'zz' }], '[1].mac', /not a MAC/);
  fails(nodeImportSchema, [], 'body', /too small|>=1/i);
});

test('kernel args are normalised and allow ordinary values', () => {
  const r = parseInput(nodeCreateSchema, { ...ok, kernelArgs: '  console=ttyS0,115200n8   rd.break  net.ifnames=0 ' });
  assert.equal(r.kernelArgs, 'console=ttyS0,115200n8 rd.break net.ifnames=0');
});
