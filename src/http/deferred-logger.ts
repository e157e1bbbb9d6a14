/**
 * A request's logger that becomes pino's child (with the request id bound) only when a line is
 * actually written at an enabled level. Fastify makes a child per request; at `warn` and above
 * almost no request logs anything, and a pino child (bindings serialized, a new prototype link)
 * costs more than the rest of a plain call's bookkeeping. Lines that are written carry the same
 * bindings as a real child's.
 */
import type { FastifyBaseLogger } from 'fastify';
import type { Bindings, ChildLoggerOptions, LevelWithSilentOrString, Logger } from 'pino';

type Level = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';

export class DeferredChildLogger {
  private made: Logger | undefined;

  constructor(
    private readonly parent: Logger,
    private readonly bindingsOf: Bindings,
    private readonly options: ChildLoggerOptions,
  ) {}

  /** The real child, made on first use and kept. */
  private get real(): Logger {
    return (this.made ??= this.parent.child(this.bindingsOf, this.options));
  }

  private write(level: Level, args: unknown[]): void {
    if (!this.parent.isLevelEnabled(level)) return;
    (this.real[level] as (...a: unknown[]) => void)(...args);
  }

  get level(): LevelWithSilentOrString {
    return this.made?.level ?? this.parent.level;
  }

  set level(level: LevelWithSilentOrString) {
    this.real.level = level;
  }

  isLevelEnabled(level: LevelWithSilentOrString): boolean {
    return (this.made ?? this.parent).isLevelEnabled(level);
  }

  fatal(...args: unknown[]): void {
    this.write('fatal', args);
  }

  error(...args: unknown[]): void {
    this.write('error', args);
  }

  warn(...args: unknown[]): void {
    this.write('warn', args);
  }

  info(...args: unknown[]): void {
    this.write('info', args);
  }

  debug(...args: unknown[]): void {
    this.write('debug', args);
  }

  trace(...args: unknown[]): void {
    this.write('trace', args);
  }

  silent(): void {}

  child(bindings: Bindings, options?: ChildLoggerOptions): Logger {
    return this.real.child(bindings, options);
  }

  bindings(): Bindings {
    return this.made ? this.made.bindings() : { ...this.parent.bindings(), ...this.bindingsOf };
  }
}

/** Fastify's `childLoggerFactory`: a deferred child per request. */
export function deferredChildLogger(logger: FastifyBaseLogger, bindings: Bindings, options: ChildLoggerOptions): FastifyBaseLogger {
  // The gateway's logger is pino's (src/app.ts), which Fastify types only as its base.
  // The class has every method Fastify and our code call on a request's logger.
  return new DeferredChildLogger(logger as Logger, bindings, options) as unknown as FastifyBaseLogger;
}
