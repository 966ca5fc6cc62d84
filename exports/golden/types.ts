/** A golden host as the pipeline sees it (the server stores it). */
export interface GoldenHost {
  name: string;
  /** Hostname or IP address. */
  address: string;
  port: number;
  user: string;
  /** The root to copy; `/` on a real golden host, a fixture directory in tests. */
  sourcePath: string;
}

/** netroot's own client credentials and pinned host keys. */
export interface SshIdentity {
  /** Path to netroot's private key (OpenSSH format, for both ssh2 and the OpenSSH client). */
  privateKeyPath: string;
  /** Path to the known_hosts file netroot keeps (one pinned key per host:port). */
  knownHostsPath: string;
}
