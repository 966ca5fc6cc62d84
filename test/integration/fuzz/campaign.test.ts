/**
 * The fuzz campaign at CI size (bench/fuzz/run.ts; the full million is
 * `node dist/bench/fuzz/campaign.js`, see bench/README.md): 30,000 random and mutated DHCP and
 * TFTP datagrams against `netroot serve` in a network namespace, while real clients (udhcpc,
 * tftp-hpa, curl) boot the registered node from it. The same pass conditions as the campaign: the
 * service never dies, each client kind is served during the flood and every time after it, memory
 * stays within the campaign's "flat" bound, no error in the service's log. Rates are load here,
 * not assertions.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULTS, markdown, runCampaign } from '../../../bench/fuzz/run.js';
import { DHCP_KINDS, TFTP_KINDS } from '../../../bench/fuzz/mutate.js';

const DATAGRAMS = 30_000;

test(`fuzz campaign, CI size: ${DATAGRAMS.toLocaleString('en-US')} datagrams; no crash, clients served during and after, memory bounded`, async (t) => {
  const report = await runCampaign({
    ...DEFAULTS,
    datagrams: DATAGRAMS,
    rate: 5000,
    clientIntervalMs: 500,
    afterRounds: 3,
    command: 'test/integration/fuzz/campaign.test.ts',
    log: (l) => t.diagnostic(l),
  });
  for (const line of markdown(report).split('\n')) t.diagnostic(line);
  assert.equal(report.sender.sent, DATAGRAMS);
  for (const k of [...DHCP_KINDS, ...TFTP_KINDS.filter((x) => x !== 'tftp.live')]) assert.ok((report.sender.byKind[k] ?? 0) > 0, `no ${k} datagram sent`);
  assert.ok(report.sender.tftpLiveSent > 0, 'datagrams reached live transfer ports');
  assert.equal(report.service.alive, true, 'the service is alive after the flood');
  assert.equal(report.service.crashes, 0);
  assert.equal(report.service.exitCode, 0, 'and stops cleanly');
  const { during, after } = report.clients.tally;
  for (const k of ['dhcp', 'tftp', 'http'] as const) {
    assert.ok(during[k].ok >= 1, `${k} served during the flood: ${JSON.stringify(report.clients.failures)}`);
    assert.deepEqual(after[k], { ok: 3, failed: 0 }, `${k} after the flood: ${JSON.stringify(report.clients.failures)}`);
  }
  assert.equal(report.service.memory.flat, true, JSON.stringify(report.service.memory));
  assert.equal(report.service.errorLines, 0, report.service.errorExamples.join('\n'));
  assert.equal(report.service.counters.dhcp.dropped['handler-error'] ?? 0, 0);
  assert.ok(Object.values(report.service.counters.dhcp.dropped).reduce((a, b) => a + b, 0) > 0, 'the service saw and dropped malformed DHCP');
  assert.ok(Object.keys(report.service.counters.tftpRefused).length > 0, 'and refused TFTP requests');
  assert.deepEqual(report.reasons, []);
  assert.equal(report.pass, true);
});
