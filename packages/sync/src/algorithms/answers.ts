/**
 * The outcome of the last rounds this replica completed — the means and who contributed — kept to
 * answer members that ask for it: a member left out of a round asks every other member, and takes the
 * first whole answer. It learns both the means (S-SGD and DiLoCo adopt them) and whether its own
 * values were in them after all (the collectives' views of who was late can differ: a member may
 * give up on a round that the others completed with its values). An ask for a round still running
 * here is answered when it completes.
 */
import type { ReplicaChannel } from './replica-channel.ts'

/** The name under which the contributors travel: one element per member of the round, 1 if it contributed. */
export const CONTRIBUTORS = '@contributors'
/** Rounds whose outcome is kept: this one and the one before (a member left out is at most one behind). */
const ROUNDS_KEPT = 2

interface Outcome {
  means: Map<string, Float32Array>
  mask: Float32Array
}

export class RoundAnswers {
  readonly #channel: ReplicaChannel
  readonly #failed: (to: string, round: number, error: Error) => void
  readonly #done = new Map<number, Outcome>()
  readonly #asked = new Map<number, Set<string>>()
  #latest = -1

  constructor(channel: ReplicaChannel, failed: (to: string, round: number, error: Error) => void) {
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
    this.#latest = Math.max(this.#latest, round)
    for (const key of this.#done.keys()) if (key <= this.#latest - ROUNDS_KEPT) this.#done.delete(key)
    for (const key of this.#asked.keys()) if (key <= this.#latest - ROUNDS_KEPT) this.#asked.delete(key)
    for (const peer of this.#asked.get(round) ?? []) this.#answer(peer, round)
    this.#asked.delete(round)
  }

  /** `peer` asks for round `round`'s outcome: answered now, or when the round completes here. */
  asked(peer: string, round: number): void {
    if (this.#done.has(round)) this.#answer(peer, round)
    else if (round > this.#latest - ROUNDS_KEPT)
      this.#asked.set(round, new Set([...(this.#asked.get(round) ?? []), peer]))
  }

  #answer(peer: string, round: number): void {
    const outcome = this.#done.get(round) as Outcome
    const parts: [string, Float32Array][] = [...outcome.means, [CONTRIBUTORS, outcome.mask]]
    for (const [name, values] of parts) {
      this.#channel
        .send(peer, 'result', round, name, values)
        .catch((err: Error) => this.#failed(peer, round, err))
    }
  }
}
