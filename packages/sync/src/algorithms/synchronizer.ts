/**
 * The one interface of the training algorithms (S-SGD, Local SGD, DreamDDP, DiLoCo): two hooks that
 * a training loop calls on every replica, the same loop for every algorithm —
 *
 * ```ts
 * for (let step = start; step < steps; step++) {
 *   zeroGrads(params); await pipeline.step(batch(step)) // forward and backward
 *   await sync.gradients(step, params)                  // S-SGD: grads become the replicas' mean
 *   optimizer.step(lr)
 *   await sync.parameters(step, params)                 // Local SGD, DiLoCo, DreamDDP average here
 * }
 * await sync.settle()
 * ```
 *
 * — plus membership (leave, admit a joiner with this replica's state), link updates, state for
 * checkpoints and joiners, and a record of every round (`history`, `onEvent`).
 */
import type { AtollMesh } from '@atoll/net'
import type { Optimizer, Parameter } from '@atoll/runtime'
import type { LinkProfile } from '@atoll/sched'
import type { DeadlineOptions } from '../time-model.ts'
import type { SyncEvent } from './events.ts'
import type { SynchronizerSpec } from './spec.ts'

/** A replica's trainable state, as a joiner receives it and a live replica gives it. */
export interface TrainingReplica {
  params: readonly Parameter[]
  optimizer: Optimizer
}

/** The synchronizer's own state (DiLoCo: the outer anchor and momentum; DreamDDP: what its schedule was solved from). */
export interface SynchronizerState {
  /** the next round: a replica restored from it must run its group from this round */
  round: number
  tensors: Map<string, Float32Array>
}

export interface SynchronizerOptions {
  /** the mesh the group runs on: the synchronizer's own messages (a joiner's state, round outcomes for replicas left out) go over it */
  mesh: AtollMesh
  /** the measured links between the members (the group's): deadlines, DreamDDP's all-reduce times */
  links: readonly LinkProfile[]
  /** S-SGD's gradient buckets, Local SGD's and DiLoCo's parameter buckets (default 25 MiB, as PyTorch DDP) */
  bucketBytes?: number
  /** DreamDDP: the layer a parameter belongs to (default: its name up to the last '.') */
  layerOf?: (paramName: string) => string
  /**
   * DreamDDP: backward seconds per layer, if profiled; their sum is the compute an iteration's
   * averaging can hide behind until the synchronizer has measured it (then the measurement is used)
   */
  backwardSeconds?: Readonly<Record<string, number>>
  /**
   * DreamDDP: add averaging wherever an iteration's channel has room (the solver's fill-in; default
   * true). A replica that computes on the CPU passes false: there every byte of an extra averaging
   * costs compute time, which the solver counts as free (measured on the sync bench: fill-in sent
   * half as many bytes again and slowed each step by as much as they took to send)
   */
  fillIn?: boolean
  /**
   * the group's deadline options (default slack 3, floor 2 s): a retry without late members gets a
   * longer floor, and waits for a round's outcome or a joiner's state follow from them
   */
  deadline?: DeadlineOptions
  /** this replica joins a running group: state messages are kept from now on, for receiveState */
  joining?: boolean
}

export interface Synchronizer {
  readonly spec: SynchronizerSpec
  /** the next round this replica runs (a joiner's group must start at the round its donor reports) */
  readonly round: number
  /** the members of the next round, with every scheduled change applied */
  readonly members: readonly string[]
  /** what happened, oldest first (the most recent MAX_HISTORY events) */
  readonly history: readonly SyncEvent[]
  /** After backward, before the optimizer step (S-SGD averages gradients; DreamDDP applies the averaging started last step). */
  gradients(step: number, params: readonly Parameter[]): Promise<void>
  /** After the optimizer step (Local SGD, DiLoCo and DreamDDP average here). */
  parameters(step: number, params: readonly Parameter[]): Promise<void>
  /** Waits for averaging still in flight and applies it (DreamDDP; at once for the others). */
  settle(): Promise<void>
  /** New measurements of the links (DreamDDP re-solves when a layer's all-reduce time moves by > 20 %). */
  updateLinks(links: readonly LinkProfile[]): void
  /** `peer` leaves from the next round on; every remaining replica calls this between the same rounds. */
  leave(peer: string): void
  /**
   * `peer` joins from the next round on; every live replica calls this between the same rounds, with
   * its own replica and the step the joiner starts at. The first live member sends the joiner its
   * parameters, optimizer state and this synchronizer's state (resolves once they are received; rejects
   * if they could not be sent, and the joiner stays in the roster until `leave(peer)`).
   */
  admit(
    peer: string,
    replica: TrainingReplica & { nextStep: number },
    links?: readonly LinkProfile[],
  ): Promise<void>
  /**
   * On a joiner (made with `joining: true`, its group at the donor's `round`): waits for the state,
   * checks every tensor against this replica's own, and loads it; resolves with the step to start at.
   */
  receiveState(replica: TrainingReplica): Promise<{ nextStep: number }>
  exportState(): SynchronizerState
  importState(state: SynchronizerState): void
  onEvent(listener: (event: SyncEvent) => void): () => void
  /** Stops listening (the group is the caller's, and stays open). */
  close(): void
}
