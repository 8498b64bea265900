/**
 * Checks of plain data that crosses a trust boundary (files, the wire): each failure names the
 * field, e.g. `peers[3].flops: expected a finite number > 0, found -1`.
 */
import { InvalidFieldError } from './errors.ts'
import type { LinkProfile, OpCost, PeerProfile } from './types.ts'

type Obj = Record<string, unknown>

function object(v: unknown, field: string): Obj {
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw new InvalidFieldError(field, 'an object', v)
  return v as Obj
}

function array(v: unknown, field: string, minLength = 0): unknown[] {
  if (!Array.isArray(v) || v.length < minLength) {
    throw new InvalidFieldError(field, `an array of at least ${minLength} item(s)`, v)
  }
  return v
}

function str(o: Obj, key: string, field: string, nonEmpty = true): string {
  const v = o[key]
  if (typeof v !== 'string' || (nonEmpty && v === '')) {
    throw new InvalidFieldError(`${field}.${key}`, nonEmpty ? 'a non-empty string' : 'a string', v)
  }
  return v
}

function num(o: Obj, key: string, field: string, positive: boolean): number {
  const v = o[key]
  if (typeof v !== 'number' || !Number.isFinite(v) || (positive ? v <= 0 : v < 0)) {
    throw new InvalidFieldError(`${field}.${key}`, `a finite number ${positive ? '> 0' : '≥ 0'}`, v)
  }
  return v
}

export function parsePeers(raw: unknown, field = 'peers'): PeerProfile[] {
  return array(raw, field, 1).map((item, i) => {
    const f = `${field}[${i}]`
    const o = object(item, f)
    return {
      id: str(o, 'id', f),
      device: str(o, 'device', f),
      flops: num(o, 'flops', f, true),
      memoryBytes: num(o, 'memoryBytes', f, true),
    }
  })
}

export function parseLinks(raw: unknown, field = 'links'): LinkProfile[] {
  return array(raw, field).map((item, i) => {
    const f = `${field}[${i}]`
    const o = object(item, f)
    return {
      a: str(o, 'a', f),
      b: str(o, 'b', f),
      bandwidthBps: num(o, 'bandwidthBps', f, true),
      rttSeconds: num(o, 'rttSeconds', f, false),
    }
  })
}

export function parseOpCosts(raw: unknown, field = 'ops'): OpCost[] {
  return array(raw, field, 1).map((item, i) => {
    const f = `${field}[${i}]`
    const o = object(item, f)
    const inputs = array(o.inputs ?? [], `${f}.inputs`)
    inputs.forEach((v, k) => {
      if (typeof v !== 'string') throw new InvalidFieldError(`${f}.inputs[${k}]`, 'an op id', v)
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
  })
}

/** Data built in code is held to the same rules: re-parse it (cheap next to planning). */
export function checkPlanInput(input: {
  peers: unknown
  links: unknown
  ops: unknown
  microBatches?: unknown
}): void {
  parsePeers(input.peers)
  parseLinks(input.links)
  parseOpCosts(input.ops)
  const m = input.microBatches
  if (m !== undefined && (!Number.isInteger(m) || (m as number) < 1)) {
    throw new InvalidFieldError('microBatches', 'an integer ≥ 1', m)
  }
}
