/**
 * A federated strategy as the server is configured with it, and the keep ratio each selected client
 * is assigned under it: 1 (dense) for `fedavg`, the one ratio for `fedavg-topk`, BCRS's
 * bandwidth-proportional ratios with that ratio as their mean for `bcrs-opwa`.
 */
import { MIN_KEEP_RATIO } from '@atoll/compress'
import { FL_STRATEGIES } from './aggregate.ts'
import { FlOptionError } from './errors.ts'
import { bcrsKeepRatios, checkBudget, type ClientBandwidth } from './keep-ratios.ts'
import type { FlEncoding } from './update.ts'

export type FlStrategy =
  | { name: 'fedavg' }
  | { name: 'fedavg-topk'; keepRatio: number }
  | {
      name: 'bcrs-opwa'
      /** the mean keep ratio over a round's clients */
      keepRatio: number
      /** smallest ratio a client is given (default compress's MIN_KEEP_RATIO, 0.001) */
      minRatio?: number
      /** largest ratio a client is given (default 1) */
      maxRatio?: number
    }

export function checkStrategy(strategy: FlStrategy): void {
  if (!FL_STRATEGIES.includes(strategy.name)) {
    throw new FlOptionError(`strategy must be one of ${FL_STRATEGIES.join(', ')}, got '${strategy.name}'`)
  }
  if (strategy.name === 'fedavg-topk' && !(strategy.keepRatio > 0 && strategy.keepRatio <= 1)) {
    throw new FlOptionError(`fedavg-topk: keepRatio must be in (0, 1], got ${strategy.keepRatio}`)
  }
  if (strategy.name === 'bcrs-opwa') checkBudget(budgetOf(strategy))
}

export function encodingOf(strategy: FlStrategy): FlEncoding {
  return strategy.name === 'fedavg' ? 'dense' : 'sparse'
}

/** Each client's keep ratio for a round, in the clients' order. */
export function assignKeepRatios(
  strategy: FlStrategy,
  clients: readonly ClientBandwidth[],
): Map<string, number> {
  if (strategy.name === 'bcrs-opwa') return bcrsKeepRatios(clients, budgetOf(strategy))
  const ratio = strategy.name === 'fedavg' ? 1 : strategy.keepRatio
  return new Map(clients.map((c) => [c.client, ratio]))
}

function budgetOf(strategy: Extract<FlStrategy, { name: 'bcrs-opwa' }>) {
  return { mean: strategy.keepRatio, min: strategy.minRatio ?? MIN_KEEP_RATIO, max: strategy.maxRatio ?? 1 }
}
