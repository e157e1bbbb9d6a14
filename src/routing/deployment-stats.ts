/**
 * What one instance has seen of a deployment lately: requests in flight, recent latency and
 * time to first token, and the error rate over the last outcomes. In memory on purpose: the
 * hot path reads it on every pick, and each instance ranks by what its own requests see.
 */

/** Weight of the newest sample in the moving averages: a few calls are enough to move them. */
const LATENCY_ALPHA = 0.3;
/** Outcomes the error rate is computed over. */
const OUTCOME_WINDOW = 50;

export class DeploymentStats {
  inFlight = 0;
  /** Attempts finished since start, and the failed ones among them. */
  requests = 0;
  failures = 0;
  /** Moving average of whole-call latency of non-streamed calls, ms. */
  latencyMs: number | undefined;
  /** Moving average of time to first chunk of streams, ms. */
  ttftMs: number | undefined;
  private readonly outcomes = new Uint8Array(OUTCOME_WINDOW);
  private next = 0;
  private seen = 0;
  private failed = 0;

  recordLatency(ms: number): void {
    this.latencyMs = this.latencyMs === undefined ? ms : this.latencyMs + LATENCY_ALPHA * (ms - this.latencyMs);
  }

  recordTtft(ms: number): void {
    this.ttftMs = this.ttftMs === undefined ? ms : this.ttftMs + LATENCY_ALPHA * (ms - this.ttftMs);
  }

  /** A call that timed out after `ms`: at least that slow, whichever kind of call it was. */
  recordSlow(ms: number): void {
    if (this.ttftMs !== undefined) this.recordTtft(ms);
    if (this.latencyMs !== undefined || this.ttftMs === undefined) this.recordLatency(ms);
  }

  recordOutcome(ok: boolean): void {
    this.requests++;
    if (!ok) this.failures++;
    const value = ok ? 0 : 1;
    if (this.seen === OUTCOME_WINDOW) this.failed -= this.outcomes[this.next]!;
    else this.seen++;
    this.outcomes[this.next] = value;
    this.failed += value;
    this.next = (this.next + 1) % OUTCOME_WINDOW;
  }

  /** Failed share of the last outcomes (0 with none yet). */
  get errorRate(): number {
    return this.seen === 0 ? 0 : this.failed / this.seen;
  }

  /** The latency that ranks this deployment for a request: TTFT for streams, else whole calls; the other when one is missing. */
  latencyFor(stream: boolean): number | undefined {
    return stream ? (this.ttftMs ?? this.latencyMs) : (this.latencyMs ?? this.ttftMs);
  }
}
