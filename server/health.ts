/** Health of each subsystem, asked on demand (GET /api/v1/health, `netroot status`). */

export interface SubsystemHealth {
  /** ok: working; off: not configured/enabled (not a fault); degraded/down: a fault. */
  status: 'ok' | 'off' | 'degraded' | 'down';
  detail?: string;
  [k: string]: unknown;
}

export type HealthCheck = () => Promise<SubsystemHealth> | SubsystemHealth;

export class Health {
  private readonly checks = new Map<string, HealthCheck>();
  private readonly started = Date.now();

  register(name: string, check: HealthCheck): void {
    this.checks.set(name, check);
  }

  async report(): Promise<{ status: 'ok' | 'degraded'; uptimeSec: number; subsystems: Record<string, SubsystemHealth> }> {
    const subsystems: Record<string, SubsystemHealth> = {};
    for (const [name, check] of this.checks) {
      try {
        subsystems[name] = await check();
      } catch (e) {
        subsystems[name] = { status: 'down', detail: (e as Error).message };
      }
    }
    const bad = Object.values(subsystems).some((s) => s.status === 'degraded' || s.status === 'down');
    return { status: bad ? 'degraded' : 'ok', uptimeSec: Math.round((Date.now() - this.started) / 1000), subsystems };
  }
}
