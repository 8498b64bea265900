/**
 * Checks of plain data that crosses a trust boundary (files, the wire): each failure names the
 * field, e.g. `peers[3].flops: expected a finite number > 0, found -1`. Field names are built only
 * on failure: a 1000-peer mesh has half a million links to check.
 */
import { InvalidFieldError } from './errors.ts'
import type { LinkProfile, OpCost, PeerProfile, SyncSpec } from './types.ts'

type Obj = Record<string, unknown>
type Field = () => string

function object(v: unknown, field: Field): Obj {
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw new InvalidFieldError(field(), 'an object', v)
  return v as Obj
}

function array(v: unknown, field: Field, minLength = 0): unknown[] {
  if (!Array.isArray(v) || v.length < minLength) {
    throw new InvalidFieldError(field(), `an array of at least ${minLength} item(s)`, v)
  }
  return v
}

function str(o: Obj, key: string, field: Field, nonEmpty = true): string {
  const v = o[key]
  if (typeof v !== 'string' || (nonEmpty && v === '')) {
    throw new InvalidFieldError(`${field()}.${key}`, nonEmpty ? 'a non-empty string' : 'a string', v)
  }
  return v
}

function num(o: Obj, key: string, field: Field, positive: boolean): number {
  const v = o[key]
  if (typeof v !== 'number' || !Number.isFinite(v) || (positive ? v <= 0 : v < 0)) {
    throw new InvalidFieldError(`${field()}.${key}`, `a finite number ${positive ? '> 0' : '≥ 0'}`, v)
  }
  return v
}

function peer(item: unknown, f: Field): PeerProfile {
  const o = object(item, f)
  return {
    id: str(o, 'id', f),
    device: str(o, 'device', f),
    flops: num(o, 'flops', f, true),
    memoryBytes: num(o, 'memoryBytes', f, true),
  }
}

function link(item: unknown, f: Field): LinkProfile {
  const o = object(item, f)
  return {
    a: str(o, 'a', f),
    b: str(o, 'b', f),
    bandwidthBps: num(o, 'bandwidthBps', f, true),
    rttSeconds: num(o, 'rttSeconds', f, false),
  }
}

function op(item: unknown, f: Field): OpCost {
  const o = object(item, f)
  const inputs = array(o.inputs ?? [], () => `${f()}.inputs`)
  inputs.forEach((v, k) => {
    if (typeof v !== 'string') throw new InvalidFieldError(`${f()}.inputs[${k}]`, 'an op id', v)
  })
  return {
    id: str(o, 'id', f),
    opType: str(o, 'opType', f),
    scope: str(o, 'scope', f, false),
    flops: num(o, 'flops', f, false),
    paramBytes: num(o, 'paramBytes', f, false),
    outputBytes: num(o, 'outputBytes', f, false),
    inputs: inputs as string[],
  }
}

export function parsePeers(raw: unknown, field = 'peers'): PeerProfile[] {
  return array(raw, () => field, 1).map((item, i) => peer(item, () => `${field}[${i}]`))
}

export function parseLinks(raw: unknown, field = 'links'): LinkProfile[] {
  return array(raw, () => field).map((item, i) => link(item, () => `${field}[${i}]`))
}

export function parseOpCosts(raw: unknown, field = 'ops'): OpCost[] {
  return array(raw, () => field, 1).map((item, i) => op(item, () => `${field}[${i}]`))
}

/** Data built in code is held to the same rules as parsed data (checked in place, nothing copied). */
export function checkPlanInput(input: {
  peers: unknown
  links: unknown
  ops: unknown
  microBatches?: unknown
}): void {
  const each = (raw: unknown, name: string, min: number, check: (item: unknown, f: Field) => unknown) => {
    const items = array(raw, () => name, min)
    for (let i = 0; i < items.length; i++) check(items[i], () => `${name}[${i}]`)
  }
  each(input.peers, 'peers', 1, peer)
  each(input.links, 'links', 0, link)
  each(input.ops, 'ops', 1, op)
  const m = input.microBatches
  if (m !== undefined && (!Number.isInteger(m) || (m as number) < 1)) {
    throw new InvalidFieldError('microBatches', 'an integer ≥ 1', m)
  }
}

const SYNC_ALGORITHMS = ['ssgd', 'local-sgd', 'diloco', 'dreamddp']

/** A sync choice: a known algorithm and a whole period ≥ 1 (S-SGD: 1); default S-SGD. */
export function checkSync(sync: SyncSpec | undefined): SyncSpec {
  if (sync === undefined) return { algorithm: 'ssgd', period: 1 }
  if (!SYNC_ALGORITHMS.includes(sync.algorithm)) {
    throw new InvalidFieldError('sync.algorithm', SYNC_ALGORITHMS.join(' | '), sync.algorithm)
  }
  const period = sync.algorithm === 'ssgd' ? 1 : sync.period
  if (!Number.isInteger(period) || period < 1)
    throw new InvalidFieldError('sync.period', 'an integer ≥ 1', period)
  return { algorithm: sync.algorithm, period }
}
