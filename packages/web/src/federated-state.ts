/**
 * How the page's federated state follows the client's events: the phase, the measured bandwidth, and
 * per round the model's download, the local losses, the upload and whether it counted. Pure, so that
 * the page only draws what this records.
 */
import type { PageClientEvent } from './federated-client.ts'
import type { FederatedRound, FederatedState } from './page-state.ts'

export function followEvent(state: FederatedState, event: PageClientEvent): void {
  const current = state.rounds.at(-1)
  switch (event.kind) {
    case 'connected':
      state.peerId = event.peerId
      state.server = event.server
      state.transport = event.transport
      state.phase = 'probing'
      break
    case 'measured':
      state.bandwidthBps = event.bandwidthBps
      break
    case 'joined':
      state.federation = event.settings.federation
      state.model = event.settings.model.zoo
      state.phase = 'waiting'
      break
    case 'round':
      state.rounds.push(newRound(event))
      state.phase = 'training'
      break
    case 'step':
      if (current?.round !== event.round) break
      current.steps = event.steps
      current.losses.push(event.loss)
      if (event.step + 1 === event.steps) state.phase = 'uploading'
      break
    case 'uploaded':
      if (current?.round !== event.round) break
      current.uploadBytes = event.bytes
      current.uploadSeconds = event.seconds
      current.outcome = event.answer.accepted ? 'accepted' : `${event.answer.kind}: ${event.answer.reason}`
      state.phase = 'waiting'
      break
    case 'missed':
      if (current?.round === event.round) current.outcome = `missed: ${event.reason}`
      state.phase = 'waiting'
      break
    case 'done':
      state.phase = 'done'
      break
  }
}

function newRound(event: Extract<PageClientEvent, { kind: 'round' }>): FederatedRound {
  return {
    round: event.task.round,
    keepRatio: event.task.keepRatio,
    modelBytes: event.modelBytes,
    downloadSeconds: event.downloadSeconds,
    steps: 0,
    losses: [],
  }
}
