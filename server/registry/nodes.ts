/**
 * The node registry: create, change, delete and import nodes with the rules that need the store
 * (uniqueness naming the conflicting node, known images). Adapters (REST API, CLI) call this;
 * subsystems that follow the registry (export table, state directories) register with onChange.
 */
import { normalizeMac } from '../../pxe/net/mac.js';
import { AppError, ErrorCode, conflict, invalid, notFound } from '../errors.js';
import { UniqueViolation, type NodeFields, type NodeRecord, type Store } from '../store/types.js';
import type { NodeCreate, NodePatch } from './schemas.js';
import { imageStateKind, stateMismatch } from './state-kind.js';

export type NodeChange =
  | { type: 'created'; node: NodeRecord }
  | { type: 'updated'; node: NodeRecord; before: NodeRecord }
  | { type: 'deleted'; node: NodeRecord }
  | { type: 'imported'; nodes: NodeRecord[] };

/** Runs after a change is stored (state directories, export table...); it handles its own errors. */
export type ChangeHook = (change: NodeChange) => Promise<void>;

const UNIQUE = ['mac', 'fqdn', 'ipv4'] as const;

export interface RegistryOptions {
  /**
   * Why an IPv4 address is not a valid reservation under the running config (server/registry/
   * addresses.ts), or null. Without it only the field rules apply.
   */
  addressProblem?: (ip: string) => string | null;
}

export class NodeRegistry {
  private readonly hooks: ChangeHook[] = [];

  constructor(
    private readonly store: Store,
    private readonly opts: RegistryOptions = {},
  ) {}

  /** Why the node's address will not be given by DHCP under the running config, or null. */
  addressProblem(ip: string): string | null {
    return this.opts.addressProblem?.(ip) ?? null;
  }

  /** Subsystems that follow the registry register here; hooks run in order, awaited. */
  onChange(hook: ChangeHook): void {
    this.hooks.push(hook);
  }

  private async notify(change: NodeChange): Promise<void> {
    for (const h of this.hooks) await h(change);
  }

  /** A node by MAC (any notation) or FQDN. */
  async find(key: string): Promise<NodeRecord> {
    const mac = normalizeMac(key);
    const node = mac ? await this.store.nodes.getByMac(mac) : await this.store.nodes.getByFqdn(key.trim().toLowerCase().replace(/\.$/, ''));
    if (!node) throw notFound(`node ${JSON.stringify(key)}`);
    return node;
  }

  async create(input: NodeCreate): Promise<NodeRecord> {
    this.checkAddress(input.ipv4, '');
    await this.checkImage(input, '');
    await this.checkUnique(input, null, '');
    const node = await this.insert(() => this.store.nodes.create(input), input, '');
    await this.notify({ type: 'created', node });
    return node;
  }

  async update(key: string, patch: NodePatch): Promise<NodeRecord> {
    const before = await this.find(key);
    const next: NodeFields = { ...pickFields(before), ...definedOnly(patch) };
    if (next.image === null) next.pinnedVersion = null;
    // Only a new address is checked: a node already stranded (and reported) can still be
    // disabled, renamed or moved to a good address.
    if (next.ipv4 !== before.ipv4) this.checkAddress(next.ipv4, '');
    // Likewise only a change of image or state mode is checked against the other.
    await this.checkImage(next, '', next.image !== before.image || next.stateMode !== before.stateMode);
    await this.checkUnique(next, before.id, '');
    const node = await this.insert(() => this.store.nodes.update(before.id, next), next, '');
    await this.notify({ type: 'updated', node, before });
    return node;
  }

  async delete(key: string): Promise<NodeRecord> {
    const node = await this.find(key);
    await this.store.nodes.delete(node.id);
    await this.notify({ type: 'deleted', node });
    return node;
  }

  /** All or nothing: every row is checked (against the store and against the other rows) first. */
  async import(list: NodeCreate[]): Promise<NodeRecord[]> {
    const seen = new Map<string, number>();
    for (const [i, n] of list.entries()) {
      const at = `[${i}]`;
      this.checkAddress(n.ipv4, at);
      for (const f of UNIQUE) {
        const k = `${f}=${n[f]}`;
        const j = seen.get(k);
        if (j !== undefined) throw conflict(`${at}.${f}`, `${at}.${f}: ${n[f]} also appears at [${j}]`);
        seen.set(k, i);
      }
      await this.checkImage(n, at);
      await this.checkUnique(n, null, at);
    }
    const nodes = await this.insert(() => this.store.nodes.createMany(list), null, '');
    await this.notify({ type: 'imported', nodes });
    return nodes;
  }

  private checkAddress(ip: string, at: string): void {
    const problem = this.addressProblem(ip);
    if (problem) throw invalid(`${at}${at ? '.' : ''}ipv4`, problem);
  }

  private async checkImage(n: Pick<NodeFields, 'image' | 'pinnedVersion' | 'stateMode'>, at: string, stateMode = true): Promise<void> {
    const pinField = `${at}${at ? '.' : ''}pinnedVersion`;
    if (n.pinnedVersion !== null && n.image === null) throw invalid(pinField, 'needs an image');
    // A node names an image that exists, or none (image: null registers it now and assigns the
    // image later). A name accepted on trust only failed at boot time ("image X has no published
    // version"), far from the typo that caused it.
    const image = n.image !== null ? await this.store.images.get(n.image) : null;
    if (image && stateMode) {
      const why = stateMismatch(image.name, imageStateKind(image.settings), n.stateMode);
      if (why) throw invalid(`${at}${at ? '.' : ''}stateMode`, why);
    }
    if (n.image !== null && !image) {
      throw invalid(
        `${at}${at ? '.' : ''}image`,
        `unknown image ${JSON.stringify(n.image)}: create it first (netroot image create ${n.image} --host GOLDEN), or register the node without an image and set it later`,
      );
    }
    if (n.image !== null && n.pinnedVersion !== null) {
      // A pin is a canary on a version that can boot: one that exists and is ready.
      const v = await this.store.versions.get(n.image, n.pinnedVersion);
      if (!v) throw invalid(pinField, `image ${n.image} has no version ${JSON.stringify(n.pinnedVersion)}`);
      if (v.state !== 'ready') throw invalid(pinField, `version ${n.image}/${n.pinnedVersion} is ${v.state}, not ready`);
    }
  }

  private async checkUnique(n: NodeFields, selfId: number | null, at: string): Promise<void> {
    for (const f of UNIQUE) {
      const other =
        f === 'mac' ? await this.store.nodes.getByMac(n.mac) : f === 'fqdn' ? await this.store.nodes.getByFqdn(n.fqdn) : await this.store.nodes.getByIpv4(n.ipv4);
      if (other && other.id !== selfId) {
        const field = `${at}${at ? '.' : ''}${f}`;
        throw conflict(field, `${field}: ${n[f]} is already used by node ${other.fqdn} (${other.mac})`);
      }
    }
  }

  /** Runs a write; a unique violation that slipped past the checks (a race) is still a 409. */
  private async insert<T>(write: () => Promise<T>, n: NodeFields | null, at: string): Promise<T> {
    try {
      return await write();
    } catch (e) {
      if (e instanceof UniqueViolation) {
        const field = `${at}${at ? '.' : ''}${e.field}`;
        throw new AppError(ErrorCode.Conflict, `${field}: ${n ? String(n[e.field as keyof NodeFields]) : 'value'} is already used by another node`, field);
      }
      throw e;
    }
  }
}

function pickFields(n: NodeRecord): NodeFields {
  const { mac, fqdn, ipv4, image, pinnedVersion, kernelArgs, bootMode, stateMode, enabled } = n;
  return { mac, fqdn, ipv4, image, pinnedVersion, kernelArgs, bootMode, stateMode, enabled };
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
