/**
 * Admission of incoming tensor messages. The receiver's gate (`TensorTransport.setGate`) sees each
 * message's validated header and sender once, before any of its payload is allocated or read, and may
 * refuse it: a job this peer does not run, a sender that is not a member of the job. A refused striped
 * transfer is remembered until its other parts have come or the assembly timeout has passed, so they
 * are refused too without asking the gate again: the gate runs once per message, and a gate that
 * changes its mind between two parts cannot open an assembly whose first part is gone.
 */
import type { TensorHeader } from '@atoll/compress'
import { describe } from './assembly.ts'
import { TensorRefusedError } from './errors.ts'
import { type Preamble, transferKey } from './stripe.ts'

/**
 * Decides whether this peer takes a tensor message, from its validated header and its sender's peer id:
 * `undefined` admits it, a string refuses it and is the reason the sender is told
 * (`job 'x' is not run here`). Called once per message, synchronously, before anything is allocated;
 * a gate that throws refuses, with its error's message as the reason.
 */
export type TensorGate = (header: TensorHeader, from: string) => string | undefined

/**
 * Refused striped transfers remembered at once. Each is a few hundred bytes and most are forgotten as
 * soon as their last part came; past this many, the oldest goes and its late parts ask the gate again.
 */
const MAX_REFUSED_TRANSFERS = 1024

/** A reason longer than this is cut: it goes into logs on both ends and over the wire. */
const MAX_REASON_CHARS = 512

interface Refused {
  error: TensorRefusedError
  partsLeft: number
  at: number
}

export class Admission {
  gate: TensorGate | undefined
  private readonly refused = new Map<string, Refused>()
  private readonly rememberMs: number
  private readonly onRefused: (error: TensorRefusedError) => void

  /** `onRefused` hears of each refused message once, whichever of its parts came first. */
  constructor(rememberMs: number, onRefused: (error: TensorRefusedError) => void) {
    this.rememberMs = rememberMs
    this.onRefused = onRefused
  }

  /**
   * Throws TensorRefusedError when the message that this part opens is refused. Called only for a
   * transfer that has no assembly yet: the parts of an admitted one are not asked about again.
   */
  check(from: string, pre: Preamble, header: TensorHeader): void {
    const key = transferKey(from, pre.transferId)
    const known = this.refused.get(key)
    if (known !== undefined) {
      known.partsLeft--
      if (known.partsLeft <= 0) this.refused.delete(key)
      throw known.error
    }
    const reason = this.ask(header, from)
    if (reason === undefined) return
    const error = new TensorRefusedError(`refused ${describe(header)} from ${from}: ${reason}`, {
      header,
      from,
      reason,
    })
    if (pre.parts > 1) this.remember(key, { error, partsLeft: pre.parts - 1, at: performance.now() })
    this.onRefused(error)
    throw error
  }

  private ask(header: TensorHeader, from: string): string | undefined {
    if (this.gate === undefined) return undefined
    let reason: string | undefined
    try {
      reason = this.gate(header, from)
    } catch (err) {
      const e = err instanceof Error ? err : new Error(String(err))
      reason = `the tensor gate failed: ${e.name}: ${e.message}`
    }
    return reason === undefined ? undefined : logSafe(String(reason))
  }

  private remember(key: string, refused: Refused): void {
    // entries are in insertion order, so the stale ones are at the front
    const staleBefore = refused.at - this.rememberMs
    for (const [oldKey, old] of this.refused) {
      if (old.at >= staleBefore && this.refused.size < MAX_REFUSED_TRANSFERS) break
      this.refused.delete(oldKey)
    }
    this.refused.set(key, refused)
  }
}

/** One line of bounded length: a reason comes from application code and may hold anything. */
function logSafe(reason: string): string {
  const line = reason.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim()
  if (line === '') return 'refused by the tensor gate'
  return line.length > MAX_REASON_CHARS ? `${line.slice(0, MAX_REASON_CHARS - 1)}…` : line
}
