/**
 * An image's `state.kind` and its nodes' `stateMode` must say the same thing, or a node boots
 * without state: a `diskless` image carries CLIENTSTATE=<netroot>:<state> in its readonly-root and
 * needs the node's state/<fqdn> export (stateMode "nfs"); a `local` image looks for the labelled
 * partitions and netroot exports no state for it (stateMode "local"). Both are set apart (the
 * image once, each node at registration), so a mismatch is refused where it is made: 400 naming
 * `stateMode` (node create, update, import) or `settings.state.kind` (image update).
 */
export type StateKind = 'diskless' | 'local';
export type NodeStateMode = 'nfs' | 'local';

/** state.kind of stored image settings (the schema's default is diskless). */
export function imageStateKind(settings: unknown): StateKind {
  const kind = (settings as { state?: { kind?: unknown } } | null)?.state?.kind;
  return kind === 'local' ? 'local' : 'diskless';
}

export function stateModeFor(kind: StateKind): NodeStateMode {
  return kind === 'local' ? 'local' : 'nfs';
}

/** Why a node with this stateMode cannot run an image of this kind, or null. */
export function stateMismatch(image: string, kind: StateKind, stateMode: NodeStateMode): string | null {
  const want = stateModeFor(kind);
  if (stateMode === want) return null;
  return kind === 'local'
    ? `image ${image} keeps state on the node's own disk (state.kind "local"): a node with stateMode "nfs" would mount nothing of its state directory; use stateMode "local"`
    : `image ${image} keeps state in each node's directory on netroot (state.kind "diskless"): a node with stateMode "local" gets no state export and would boot without state; use stateMode "nfs"`;
}
