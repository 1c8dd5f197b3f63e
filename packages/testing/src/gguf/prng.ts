// Deterministic weights across machines: only integer ops and exactly rounded float
// ops (no Math.log/Math.cos, whose last bits may differ between engines).

/** FNV-1a 32-bit hash of a string, used to derive an independent stream per tensor. */
export function hashString(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** mulberry32: tiny, fast, good enough for test weights. */
export class SeededRandom {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** Creates an independent stream for `label` under `seed`. */
  static forLabel(seed: number, label: string): SeededRandom {
    return new SeededRandom(Math.imul(seed >>> 0, 0x9e3779b1) ^ hashString(label));
  }

  nextUint32(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** Uniform in [0, 1) with 24 bits of resolution (exact in float32). */
  next(): number {
    return (this.nextUint32() >>> 8) / 16777216;
  }

  /** Uniform in [-amplitude, amplitude). */
  symmetric(amplitude: number): number {
    return (this.next() * 2 - 1) * amplitude;
  }
}
