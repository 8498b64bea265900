/**
 * A stage's inbox for one job: the boundary tensors (activations in, gradients back, tied-weight
 * gradients) it expects this step, each once, from the one peer that sends it, with the dtype and
 * shape the plan gave its edge. What it does not expect is dropped with the reason, never mixed in:
 * a late message (an earlier step), a duplicate, an unknown edge, a wrong sender, shape or
 * micro-batch. Messages for the next step may come early (a faster stage) and are kept.
 */
import type { TensorHeader } from '@atoll/compress'
import type { IncomingTensor } from '@atoll/net'
import { JobAbortedError } from './errors.ts'

/** What an edge carries, and who sends it. */
export interface Expected {
  from: string
  dtype: string
  shape: readonly number[]
}

/**
 * Why a message was dropped: `late` (a step already past), `duplicate` (a second copy), `foreign`
 * (anything this stage does not expect: an edge, sender, micro-batch, dtype, shape, or a step too far ahead).
 */
export type DropKind = 'late' | 'duplicate' | 'foreign'

export interface Dropped {
  kind: DropKind
  reason: string
}

interface Waiter {
  resolve(msg: IncomingTensor): void
  reject(err: Error): void
}

export class JobMailbox {
  readonly #expected = new Map<string, Expected[]>()
  readonly #microBatches: number
  readonly #stored = new Map<string, IncomingTensor>()
  readonly #waiters = new Map<string, Waiter>()
  /** keys of this step's messages already taken or stored: a second copy is a duplicate */
  readonly #seen = new Set<string>()
  #step = 0
  /** why the step was aborted: later waits fail at once */
  #failed: string | undefined

  constructor(microBatches: number) {
    this.#microBatches = microBatches
  }

  /** Declares an edge: messages named `edge` from `from` with that dtype and shape. */
  expect(edge: string, expected: Expected): void {
    this.#expected.set(edge, [...(this.#expected.get(edge) ?? []), expected])
  }

  /** Starts `step`: what is left of earlier steps is dropped (a stage ran ahead and then aborted). */
  begin(step: number): void {
    this.#step = step
    this.#failed = undefined
    for (const [key, msg] of this.#stored) if (msg.header.step < step) this.#stored.delete(key)
    for (const key of this.#seen) if (Number(key.split('|')[0]) < step) this.#seen.delete(key)
  }

  /** Files an arrival; returns why it was dropped, or undefined when it was kept or handed over. */
  put(msg: IncomingTensor): Dropped | undefined {
    const problem = this.#check(msg.header, msg.from)
    if (problem !== undefined) return problem
    const key = keyOf(msg.header.step, msg.header.mb, msg.header.edge, msg.from)
    if (this.#seen.has(key))
      return {
        kind: 'duplicate',
        reason: `a duplicate of step ${msg.header.step}, micro-batch ${msg.header.mb}`,
      }
    this.#seen.add(key)
    const waiter = this.#waiters.get(key)
    this.#waiters.delete(key)
    if (waiter) waiter.resolve(msg)
    else this.#stored.set(key, msg)
    return undefined
  }

  /** The message of (step, mb, edge) from `from`, when it arrives. */
  take(step: number, mb: number, edge: string, from: string): Promise<IncomingTensor> {
    if (this.#failed !== undefined) return Promise.reject(new JobAbortedError(this.#failed))
    const key = keyOf(step, mb, edge, from)
    const stored = this.#stored.get(key)
    if (stored) {
      this.#stored.delete(key)
      return Promise.resolve(stored)
    }
    return new Promise((resolve, reject) => this.#waiters.set(key, { resolve, reject }))
  }

  /** Fails every wait, and every one until the next step begins (the step was aborted or the job stopped). */
  fail(reason: string): void {
    this.#failed = reason
    for (const w of this.#waiters.values()) w.reject(new JobAbortedError(reason))
    this.#waiters.clear()
  }

  #check(header: TensorHeader, from: string): Dropped | undefined {
    if (header.step !== this.#step && header.step !== this.#step + 1) {
      const reason = `step ${header.step} is not this step (${this.#step}) or the next`
      return { kind: header.step < this.#step ? 'late' : 'foreign', reason }
    }
    const foreign = (reason: string): Dropped => ({ kind: 'foreign', reason })
    const expected = this.#expected.get(header.edge)
    if (expected === undefined) return foreign(`edge '${header.edge}' is not one this stage receives`)
    const match = expected.find((e) => e.from === from)
    if (match === undefined) return foreign(`edge '${header.edge}' does not come from ${from}`)
    if (!(header.mb >= 0 && header.mb < this.#microBatches) && !header.edge.startsWith('tied:'))
      return foreign(`micro-batch ${header.mb} is not one of 0…${this.#microBatches - 1}`)
    if (header.dtype !== match.dtype || header.shape.join() !== match.shape.join())
      return foreign(
        `edge '${header.edge}' carries ${match.dtype}[${match.shape}], not ${header.dtype}[${header.shape}]`,
      )
    return undefined
  }
}

const keyOf = (step: number, mb: number, edge: string, from: string) => `${step}|${mb}|${edge}|${from}`
