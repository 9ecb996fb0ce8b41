/**
 * A request that may be lost (NATS just reconnected, JetStream still recovering after a server
 * restart) is retried after `attemptMs` rather than waiting out the client's own timeout (5 s for
 * JetStream), which would hold a promotion that long after NATS is back. A late answer of an
 * abandoned attempt is dropped. Use only for idempotent reads.
 */
export async function withBoundedAttempts<T>(what: string, fn: () => Promise<T>, attemptMs: number, attempts: number): Promise<T> {
  let last: unknown;
  for (let i = 0; i < attempts; i++) {
    let timer: NodeJS.Timeout | undefined;
    const attempt = fn();
    attempt.catch(() => undefined);
    try {
      return await Promise.race([attempt, new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what}: no answer in ${attemptMs} ms`)), attemptMs);
      })]);
    } catch (e) {
      last = e;
    } finally {
      clearTimeout(timer);
    }
  }
  throw new Error(`${what}: no answer in ${attempts} attempts`, { cause: last });
}
