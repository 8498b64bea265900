/**
 * The outcome of the last rounds this replica completed — the means and who contributed — kept to
 * answer members that ask for it: a member left out of a round asks every other member, and takes the
 * first whole answer. It learns both the means (S-SGD and DiLoCo adopt them) and whether its own
 * values were in them after all (the collectives' views of who was late can differ: a member may
 * give up on a round that the others completed with its values). An ask for a round not over here
 * is answered when the round completes; while it runs here (it has started), the asker is told so,
 * at once or when it starts, so that it keeps waiting (see rounds.ts). A member that has not started
 * the round says nothing until it does: it may never start it while the asker waits. A member left
 * out of a round has nothing to tell, and says nothing: the asker stops waiting on it.
 */
import type { ReplicaChannel } from './replica-channel.ts'

/** The name under which the contributors travel: one element per member of the round, 1 if it contributed. */
export const CONTRIBUTORS = '@contributors'
/** Rounds whose outcome is kept: this one and the one before (a member left out is at most one behind). */
const ROUNDS_KEPT = 2

/** A message to `to` about round `round` (`what` it was) could not be sent. */
type Failed = (to: string, round: number, what: string, error: Error) => void

interface Outcome {
  means: Map<string, Float32Array>
  mask: Float32Array
}

export class RoundAnswers {
  readonly #channel: ReplicaChannel
  readonly #failed: Failed
  readonly #done = new Map<number, Outcome>()
  readonly #asked = new Map<number, Set<string>>()
  /** rounds this replica was left out of */
  readonly #out = new Set<number>()
  /** the last round started here */
  #current = -1
  #latest = -1

  constructor(channel: ReplicaChannel, failed: Failed) {
    this.#channel = channel
    this.#failed = failed
  }

  /** Round `round` completed here with these means and contributors (among `members`, the round's). */
  completed(
    round: number,
    members: readonly string[],
    contributors: readonly string[],
    means: Map<string, Float32Array>,
  ): void {
    const mask = Float32Array.from(members, (m) => (contributors.includes(m) ? 1 : 0))
    this.#done.set(round, { means, mask })
    this.#ended(round)
    for (const peer of this.#asked.get(round) ?? []) this.#answer(peer, round)
    this.#asked.delete(round)
  }

  /** Round `round` starts here: the members that asked for its outcome are told that it runs. */
  started(round: number): void {
    this.#current = Math.max(this.#current, round)
    for (const peer of this.#asked.get(round) ?? []) this.#tellRunning(peer, round)
  }

  /** This replica was left out of round `round`: it has no outcome to tell, and stops telling askers that it runs. */
  leftOut(round: number): void {
    this.#out.add(round)
    this.#ended(round)
    this.#asked.delete(round)
  }

  /**
   * `peer` asks for round `round`'s outcome: answered now, or when the round completes here (told
   * that it runs, now or when it starts); not at all where this replica was left out of it or it is
   * long over.
   */
  asked(peer: string, round: number): void {
    if (this.#done.has(round)) this.#answer(peer, round)
    else if (round > this.#latest - ROUNDS_KEPT && !this.#out.has(round)) {
      this.#asked.set(round, new Set([...(this.#asked.get(round) ?? []), peer]))
      if (round <= this.#current) this.#tellRunning(peer, round)
    }
  }

  #tellRunning(peer: string, round: number): void {
    this.#channel
      .tellRunning(peer, round)
      .catch((err: Error) => this.#failed(peer, round, 'that the round runs', err))
  }

  /** Round `round` is over here: what is kept for rounds before the last ROUNDS_KEPT goes. */
  #ended(round: number): void {
    this.#latest = Math.max(this.#latest, round)
    for (const kept of [this.#done, this.#asked])
      for (const key of kept.keys()) if (key <= this.#latest - ROUNDS_KEPT) kept.delete(key)
    for (const key of this.#out) if (key <= this.#latest - ROUNDS_KEPT) this.#out.delete(key)
  }

  #answer(peer: string, round: number): void {
    const outcome = this.#done.get(round) as Outcome
    const parts: [string, Float32Array][] = [...outcome.means, [CONTRIBUTORS, outcome.mask]]
    for (const [name, values] of parts) {
      this.#channel
        .send(peer, 'result', round, name, values)
        .catch((err: Error) => this.#failed(peer, round, 'a round outcome', err))
    }
  }
}
