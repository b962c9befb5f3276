/** A decode problem: recorded with where it happened, and decoding goes on. */
export interface Problem {
  /** 1-based packet number (0 for the file as a whole). */
  packet: number;
  /** Layer or protocol that could not be decoded, e.g. "ipv4", "bgp", "pcapng". */
  layer: string;
  reason: string;
}
