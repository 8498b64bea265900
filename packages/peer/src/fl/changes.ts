/**
 * A wake-up call for the federated server's waits: a long-polling task call, the round loop and the
 * shutdown wait each sleep until something changed (a join, an update, a round's start or end) or
 * their own time is up, instead of polling on a short timer.
 */
export class Changes {
  readonly #waiters = new Set<() => void>()

  /** Wakes every wait in progress. */
  notify(): void {
    const waiters = [...this.#waiters]
    this.#waiters.clear()
    for (const wake of waiters) wake()
  }

  /** Resolves at the next change, or after `ms`. */
  next(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer)
        this.#waiters.delete(wake)
        resolve()
      }
      const timer = setTimeout(wake, ms)
      this.#waiters.add(wake)
    })
  }

  /** Resolves to true once `test` holds (checked at each change), or to false after `ms`. */
  async until(test: () => boolean, ms: number): Promise<boolean> {
    const end = Date.now() + ms
    while (!test()) {
      const left = end - Date.now()
      if (left <= 0) return false
      await this.next(left)
    }
    return true
  }
}
