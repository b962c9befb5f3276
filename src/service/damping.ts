/**
 * Flap damping of findings, after BGP route flap damping (RFC 2439): every change of a
 * finding's presence adds PENALTY to its figure of merit, which halves every HALF_LIFE. A
 * change is announced as it happens (detection is never delayed) until the figure reaches
 * SUPPRESS: then one `flapping` outcome is announced and further changes are silent until the
 * figure decays below REUSE; `settled` is announced then, with the state the finding has.
 * Defaults: 1000 per change, suppress at 2000, reuse at 750, half-life 60 s: down, up, down
 * within a minute is a flap; it is quiet again about two minutes after it stops.
 */
export interface DampingRule {
  penalty: number;
  suppress: number;
  reuse: number;
  halfLifeMs: number;
}

export const DEFAULT_DAMPING: DampingRule = { penalty: 1000, suppress: 2000, reuse: 750, halfLifeMs: 60_000 };

export type DampingOutcome =
  | { kind: 'raise' }
  | { kind: 'clear' }
  /** Suppression starts; `present` is the state at that moment. */
  | { kind: 'flapping'; present: boolean; penalty: number }
  /** Suppression ends; announce `present` if it differs from what was last announced. */
  | { kind: 'settled'; present: boolean; changed: boolean };

interface KeyState {
  /** What subscribers were last told. */
  announced: boolean;
  actual: boolean;
  penalty: number;
  at: number;
  suppressed: boolean;
}

export class FlapDamper {
  private readonly rule: DampingRule;
  private readonly keys = new Map<string, KeyState>();
  constructor(rule: DampingRule = DEFAULT_DAMPING) {
    this.rule = rule;
  }

  /** Keys whose state the damper still tracks (present, suppressed or decaying). */
  tracked(): string[] {
    return [...this.keys.keys()];
  }

  announced(key: string): boolean {
    return this.keys.get(key)?.announced ?? false;
  }

  suppressed(key: string): boolean {
    return this.keys.get(key)?.suppressed ?? false;
  }

  penalty(key: string, now: number): number {
    const s = this.keys.get(key);
    return s ? this.decayed(s, now) : 0;
  }

  private decayed(s: KeyState, now: number): number {
    return s.penalty * Math.pow(2, -(now - s.at) / this.rule.halfLifeMs);
  }

  /** A key announced present before a restart: tracked as present, without penalty. */
  seed(key: string, now: number): void {
    this.keys.set(key, { announced: true, actual: true, penalty: 0, at: now, suppressed: false });
  }

  /** One poll's reading of one finding key (call it for every tracked key on every poll). */
  observe(key: string, present: boolean, now: number): DampingOutcome[] {
    const s = this.keys.get(key) ?? { announced: false, actual: false, penalty: 0, at: now, suppressed: false };
    this.keys.set(key, s);
    s.penalty = this.decayed(s, now);
    s.at = now;
    const out: DampingOutcome[] = [];
    if (present !== s.actual) {
      s.actual = present;
      s.penalty += this.rule.penalty;
      if (!s.suppressed && s.penalty >= this.rule.suppress) {
        s.suppressed = true;
        out.push({ kind: 'flapping', present, penalty: Math.round(s.penalty) });
      } else if (!s.suppressed) {
        s.announced = present;
        out.push({ kind: present ? 'raise' : 'clear' });
      }
    }
    if (s.suppressed && s.penalty < this.rule.reuse) {
      s.suppressed = false;
      const changed = s.announced !== s.actual;
      s.announced = s.actual;
      out.push({ kind: 'settled', present: s.actual, changed });
    }
    // Forget keys that are absent, announced absent and have decayed to nothing.
    if (!s.actual && !s.announced && !s.suppressed && s.penalty < 1) this.keys.delete(key);
    return out;
  }
}
