/**
 * The server's page's view of a federation (sync's FederationStatus), kept up to date from the
 * server's events: who joined with what bandwidth, each client's keep ratio and upload in its last
 * round, the phase and round, and the accuracy after each round. `atoll fl serve --web` serves its
 * status as `federation.json`.
 */
import type { FederationClientRow, FederationStatus, FlStrategyName } from '@atoll/sync'
import type { FlServerEvent } from './server.ts'

export interface FederationBoardInit {
  federation: string
  strategy: FlStrategyName
  rounds: number
  joinAddresses: readonly string[]
}

export class FederationBoard {
  readonly #init: FederationBoardInit
  readonly #clients = new Map<string, FederationClientRow>()
  readonly #accuracy: FederationStatus['accuracy'] = []
  #phase: FederationStatus['phase'] = 'starting'
  #round = 0

  constructor(init: FederationBoardInit) {
    this.#init = init
  }

  /** Takes in what the server did (serveFederation's events: `resumed` comes first when it resumes). */
  observe(event: FlServerEvent | { kind: 'resumed'; round: number }): void {
    if (event.kind === 'resumed') this.#round = event.round
    else if (event.kind === 'serving' || event.kind === 'waiting') this.#phase = 'waiting'
    else if (event.kind === 'joined') {
      const row = this.#clients.get(event.client)
      const { samples, bandwidthBps } = event
      this.#clients.set(event.client, { ...row, client: event.client, samples, bandwidthBps, present: true })
    } else if (event.kind === 'left') {
      const row = this.#clients.get(event.client)
      if (row !== undefined) row.present = false
    } else if (event.kind === 'round-start') {
      this.#phase = 'round'
      this.#round = event.plan.round
      for (const { client, keepRatio } of event.plan.assignments) {
        const row = this.#clients.get(client)
        if (row !== undefined) row.last = { round: event.plan.round, keepRatio, status: 'waiting' }
      }
    } else if (event.kind === 'update') {
      const last = this.#clients.get(event.client)?.last
      if (last === undefined || last.round !== event.round) return
      last.status = event.answer.accepted ? 'accepted' : 'rejected'
      if (event.answer.accepted) last.bytes = event.answer.bytes
    } else if (event.kind === 'evaluated') {
      const afterRounds = event.round === 'start' ? this.#round : event.round + 1
      const { accuracy, loss } = event.evaluation
      this.#accuracy.push({ afterRounds, accuracy, loss })
    } else if (event.kind === 'round') this.#finished(event.record)
  }

  /** The server has stopped: no round is coming. */
  done(): void {
    this.#phase = 'done'
  }

  status(): FederationStatus {
    const { federation, strategy, rounds, joinAddresses } = this.#init
    return {
      federation,
      strategy,
      rounds,
      phase: this.#phase,
      round: this.#round,
      joinAddresses: [...joinAddresses],
      clients: [...this.#clients.values()].map((row) => ({ ...row })),
      accuracy: [...this.#accuracy],
    }
  }

  #finished(record: Extract<FlServerEvent, { kind: 'round' }>['record']): void {
    this.#phase = 'waiting'
    this.#round = record.round + 1
    for (const c of record.clients) {
      const row = this.#clients.get(c.client)
      if (row === undefined) continue
      row.last = {
        round: record.round,
        keepRatio: c.keepRatio,
        status: c.status,
        ...(c.bytes === undefined ? {} : { bytes: c.bytes }),
        ...(c.predictedUploadSeconds === undefined ? {} : { uploadSeconds: c.predictedUploadSeconds }),
        ...(c.arrivedAfterMs === undefined ? {} : { arrivedAfterSeconds: c.arrivedAfterMs / 1000 }),
        ...(c.reason === undefined ? {} : { reason: c.reason }),
      }
    }
  }
}
