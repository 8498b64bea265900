/**
 * How a worker notices that a job's coordinator went away: each job has a timer, restarted when a
 * call from its coordinator arrives and again when it is answered; when the coordinator has been
 * silent for the whole timeout, the worker drops the job. Without it, a coordinator that died would
 * leave its stage, its sessions and its parameters held on every worker until the daemon stopped.
 * A call still in progress when the timer runs out (a step waiting for a tensor from a stage that
 * went away too) is the worker's to fail; `ended` tells it when that call is over.
 */
export class CoordinatorSilence {
  readonly #timeoutMs: number
  readonly #onSilent: (job: string) => void
  readonly #timers = new Map<string, ReturnType<typeof setTimeout>>()
  readonly #calls = new Map<string, Set<Promise<unknown>>>()

  constructor(timeoutMs: number, onSilent: (job: string) => void) {
    this.#timeoutMs = timeoutMs
    this.#onSilent = onSilent
  }

  /** The coordinator of `job` was heard from: its timer starts again. */
  heard(job: string): void {
    clearTimeout(this.#timers.get(job))
    const timer = setTimeout(() => {
      this.#timers.delete(job)
      this.#onSilent(job)
    }, this.#timeoutMs)
    // a job's timer alone must not keep a process alive (the daemon's node does)
    timer.unref()
    this.#timers.set(job, timer)
  }

  /** Runs a call from the coordinator of `job`: heard when it arrives and when it is answered. */
  async serving<T>(job: string, call: () => Promise<T>): Promise<T> {
    this.heard(job)
    const running = call()
    const calls = this.#calls.get(job) ?? new Set()
    this.#calls.set(job, calls.add(running))
    try {
      return await running
    } finally {
      calls.delete(running)
      if (calls.size === 0 && this.#calls.get(job) === calls) this.#calls.delete(job)
      // a job stopped or dropped meanwhile has no timer left to restart
      if (this.#timers.has(job)) this.heard(job)
    }
  }

  /** Resolves when the calls of `job` in progress have ended, however they ended. */
  async ended(job: string): Promise<void> {
    await Promise.allSettled([...(this.#calls.get(job) ?? [])])
  }

  /** The job ended here (stopped, replaced, dropped): its timer stops. */
  forget(job: string): void {
    clearTimeout(this.#timers.get(job))
    this.#timers.delete(job)
  }

  /** Every timer stops (the worker is stopping). */
  clear(): void {
    for (const timer of this.#timers.values()) clearTimeout(timer)
    this.#timers.clear()
  }
}
