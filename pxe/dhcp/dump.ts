/** A stable human-readable dump of a packet: used for golden tests and debug logs. */
import { FLAG_BROADCAST, messageTypeName, Opt, optionName } from './constants.js';
import type { DhcpPacket } from './packet.js';
import type { OptionValue } from './options.js';

function item(x: unknown): string {
  if (typeof x === 'object' && x !== null && 'code' in x && 'data' in x) {
    const s = x as { code: number; data: Buffer };
    return `${s.code}=0x${s.data.toString('hex')}`;
  }
  return String(x);
}

function show(code: number, v: OptionValue): string {
  if (code === Opt.MessageType && typeof v === 'number') return `${messageTypeName(v)} (${v})`;
  if (code === Opt.ParameterRequestList && Array.isArray(v)) return (v as number[]).map((c) => `${c} ${optionName(c)}`).join(', ');
  if (Buffer.isBuffer(v)) return `0x${v.toString('hex')}`;
  if (typeof v === 'string') return JSON.stringify(v);
  if (Array.isArray(v)) {
    return (v as unknown[]).map(item).join(', ');
  }
  if (typeof v === 'object') return Object.entries(v).map(([k, x]) => `${k}=${String(x)}`).join(' ');
  return String(v);
}

export function dumpPacket(p: DhcpPacket): string {
  const lines = [
    `op ${p.op === 1 ? 'BOOTREQUEST' : 'BOOTREPLY'} (${p.op}) htype ${p.htype} hlen ${p.hlen} hops ${p.hops}`,
    `xid 0x${p.xid.toString(16).padStart(8, '0')} secs ${p.secs} flags 0x${p.flags.toString(16).padStart(4, '0')}${p.flags & FLAG_BROADCAST ? ' (broadcast)' : ''}`,
    `ciaddr ${p.ciaddr} yiaddr ${p.yiaddr} siaddr ${p.siaddr} giaddr ${p.giaddr}`,
    `chaddr ${p.chaddr.subarray(0, Math.min(p.hlen, 16)).toString('hex').replace(/(..)(?!$)/g, '$1:')}`,
    `sname ${JSON.stringify(p.sname)}`,
    `file ${JSON.stringify(p.file)}`,
  ];
  if (p.overload) lines.push(`overload ${p.overload}`);
  for (const [code, v] of p.options.entries()) lines.push(`option ${code} ${optionName(code)}: ${show(code, v)}`);
  return lines.join('\n') + '\n';
}
