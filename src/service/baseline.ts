/**
 * Baselines per metric series: an exponentially weighted mean and variance (alpha 0.1, about
 * the last 10-20 samples). A sample is anomalous when the series has at least WARMUP samples
 * and it lies more than SIGMAS standard deviations from the mean, the deviation floored at
 * max(FLOOR_REL * |mean|, FLOOR_ABS) so a series that never moved does not alarm on noise.
 * Defaults: 3 sigma after 20 samples, floors 10 % and 1 unit. Anomalies are edge-triggered:
 * one `anomaly` when a series leaves its band, one `anomaly-cleared` when it is back. Every
 * sample, anomalous or not, enters the baseline, so a lasting shift becomes the new normal.
 */
export interface BaselineRule {
  alpha: number;
  sigmas: number;
  warmup: number;
  floorRel: number;
  floorAbs: number;
}

export const DEFAULT_BASELINE: BaselineRule = { alpha: 0.1, sigmas: 3, warmup: 20, floorRel: 0.1, floorAbs: 1 };

export interface BaselineReading {
  value: number;
  mean: number;
  sd: number;
  /** Deviation in (floored) standard deviations; 0 during warm-up. */
  z: number;
  n: number;
  anomalous: boolean;
}

export class Ewma {
  mean = 0;
  variance = 0;
  n = 0;
  anomalous = false;
  private readonly rule: BaselineRule;
  constructor(rule: BaselineRule = DEFAULT_BASELINE) {
    this.rule = rule;
  }

  /** Judges x against the baseline so far, then folds it in. */
  update(x: number): BaselineReading {
    const r = this.rule;
    const sd = Math.sqrt(this.variance);
    const band = Math.max(sd, r.floorRel * Math.abs(this.mean), r.floorAbs);
    const z = this.n >= r.warmup ? Math.abs(x - this.mean) / band : 0;
    const reading = { value: x, mean: this.mean, sd, z, n: this.n, anomalous: z > r.sigmas };
    if (this.n === 0) this.mean = x;
    else {
      const diff = x - this.mean;
      const incr = r.alpha * diff;
      this.mean += incr;
      this.variance = (1 - r.alpha) * (this.variance + diff * incr);
    }
    this.n++;
    return reading;
  }
}

export type BaselineEdge = { kind: 'anomaly' | 'anomaly-cleared'; series: string; reading: BaselineReading };

/** One baseline per series name, with edge-triggered anomaly transitions. */
export class Baselines {
  private readonly series = new Map<string, Ewma>();
  private readonly rule: BaselineRule;
  constructor(rule: BaselineRule = DEFAULT_BASELINE) {
    this.rule = rule;
  }

  observe(name: string, x: number): BaselineEdge | undefined {
    let e = this.series.get(name);
    if (!e) this.series.set(name, (e = new Ewma(this.rule)));
    const reading = e.update(x);
    if (reading.anomalous === e.anomalous) return undefined;
    e.anomalous = reading.anomalous;
    return { kind: reading.anomalous ? 'anomaly' : 'anomaly-cleared', series: name, reading };
  }

  /** Series with a baseline. */
  get size(): number {
    return this.series.size;
  }

  get(name: string): Ewma | undefined {
    return this.series.get(name);
  }
}
