import { readFileSync, writeFileSync } from 'node:fs'
import type { Graph } from '@atoll/core'
import type { OpCost, SyncSpec } from '@atoll/sched'
import { type Command, UsageError } from '../command.ts'
import { numberFlag, outputFlag, parseFlags } from '../flags.ts'

/** Loaded on first use: `atoll --help` and the other commands need neither (start-up time). */
let core: typeof import('@atoll/core')
let sched: typeof import('@atoll/sched')

const usage = [
  'Usage:',
  '  atoll plan dreamddp --bp BP.json --comm COMM.json --period H [--json OUT.json]',
  '  atoll plan fence --peers PEERS.json --links LINKS.json --model gpt2:CONFIG|MODEL.onnx|OPS.json',
  '                   [--micro-batches M] [--bind batch=8,seq=1024] [--sync ALG[:H]] [--json OUT.json]',
  '',
  'dreamddp: the DreamDDP partial-sync schedule of a layer profile (layer → seconds, forward order;',
  '  NaN counts as 0): which iterations of each period synchronise each layer, the wait per',
  '  iteration and per period under the FIFO model, and the modelled iteration times of S-SGD and',
  '  Local SGD. OUT has schedule, waitPerPeriod, waitPerIteration, iterationTime, baselines.',
  'fence: the OP-Fence plan of a model over profiled peers and links, beside the even split.',
  '  PEERS: [{ id, device, flops, memoryBytes }]; LINKS: [{ a, b, bandwidthBps, rttSeconds }].',
  '  --model gpt2:CONFIG builds a zoo GPT-2: tiny, mini, d384, or small (= 124M, the published GPT-2',
  '  small); MODEL.onnx is imported;',
  '  OPS.json is a list of op costs { id, opType, scope, flops, paramBytes, outputBytes, inputs }.',
  '  --bind sets symbolic dimensions (default batch=8: the micro-batch size).',
  '  --sync is how stage replicas synchronise: ssgd (default), local-sgd:H, diloco:H, dreamddp:H.',
].join('\n')

export const plan: Command = {
  name: 'plan',
  summary: 'plan a job: OP-Fence placement or a DreamDDP sync schedule',
  usage,
  async run(args) {
    ;[core, sched] = await Promise.all([import('@atoll/core'), import('@atoll/sched')])
    const [sub, ...rest] = args
    if (sub === 'dreamddp') return dreamddp(rest)
    if (sub === 'fence') return fence(rest)
    throw new UsageError(sub === undefined ? 'name what to plan: dreamddp or fence' : `unknown plan '${sub}'`)
  },
}

function dreamddp(args: string[]): number {
  const { values } = parseFlags(args, {
    bp: { type: 'string' },
    comm: { type: 'string' },
    period: { type: 'string' },
    json: { type: 'string' },
  })
  const json = outputFlag('json', values.json)
  const period = numberFlag('period', required(values.period, 'period'), 1, 255)!
  if (!Number.isInteger(period)) throw new UsageError(`--period must be an integer, got '${values.period}'`)
  const bp = sched.parseLayerTimes(readText(required(values.bp, 'bp'), 'bp'), values.bp)
  const comm = sched.parseLayerTimes(readText(required(values.comm, 'comm'), 'comm'), values.comm)
  const result = sched.planDreamDdp(sched.syncProblem(bp, comm, period))
  const b = result.baselines
  console.log(
    [
      `DreamDDP, H = ${period}: wait ${result.waitPerPeriod.toFixed(4)} s per period (${result.optimal ? 'optimal under the model' : `lower bound ${result.lowerBound.toFixed(4)} s`})`,
      `iteration ${result.iterationTime.toFixed(4)} s; S-SGD ${b.ssgd.toFixed(4)} s, overlapped S-SGD ${b.ssgdOverlapped.toFixed(4)} s, Local SGD ${b.localSgd.toFixed(4)} s`,
      `syncs per period: ${result.syncs.solved} solved, ${result.syncs.filled} after fill-in`,
    ].join('\n'),
  )
  if (json !== undefined) writeJson(json, result)
  return 0
}

function fence(args: string[]): number {
  const { values } = parseFlags(args, {
    peers: { type: 'string' },
    links: { type: 'string' },
    model: { type: 'string' },
    'micro-batches': { type: 'string' },
    bind: { type: 'string' },
    sync: { type: 'string' },
    json: { type: 'string' },
  })
  const json = outputFlag('json', values.json)
  const sync = syncFlag(values.sync)
  const microBatches = numberFlag('micro-batches', values['micro-batches'], 1, 1e6)
  if (microBatches !== undefined && !Number.isInteger(microBatches)) {
    throw new UsageError(`--micro-batches must be an integer, got '${values['micro-batches']}'`)
  }
  const peers = sched.parsePeers(readJson(required(values.peers, 'peers'), 'peers'), values.peers)
  const links = sched.parseLinks(readJson(required(values.links, 'links'), 'links'), values.links)
  const ops = modelOps(required(values.model, 'model'), values.bind)
  const input = { peers, links, ops, microBatches }
  const fenced = sched.planFence(input, { sync })
  const even = sched.planEven(input)
  console.log(sched.formatPlan(fenced, even))
  if (json !== undefined) {
    writeJson(json, {
      predictedStepSeconds: fenced.predicted.stepSeconds,
      evenStepSeconds: even.predicted.stepSeconds,
      speedupOverEven: even.predicted.stepSeconds / fenced.predicted.stepSeconds,
      plan: fenced,
      baseline: even,
      summary: sched.formatPlan(fenced, even),
    })
  }
  return 0
}

/** Op costs of `gpt2:CONFIG`, an ONNX file, or a JSON list of op costs. */
function modelOps(model: string, bind: string | undefined): OpCost[] {
  if (model.endsWith('.json')) {
    if (bind !== undefined) throw new UsageError('--bind applies to a model, not to an op-cost list')
    return sched.parseOpCosts(readJson(model, 'model'), model)
  }
  const graph = modelGraph(model)
  return sched.opCostsOfGraph(graph, bindings(bind, graph))
}

function modelGraph(model: string): Graph {
  if (model.startsWith('gpt2:')) {
    const config = model.slice('gpt2:'.length)
    if (!Object.hasOwn(core.GPT2_CONFIGS, config)) {
      throw new UsageError(
        `--model gpt2:CONFIG wants one of ${Object.keys(core.GPT2_CONFIGS).join(', ')}, got '${config}'`,
      )
    }
    return core.gpt2({ config: config as keyof typeof core.GPT2_CONFIGS, shapesOnly: true }).graph
  }
  if (model.endsWith('.onnx')) {
    let bytes: Uint8Array
    try {
      bytes = new Uint8Array(readFileSync(model))
    } catch (err) {
      throw new UsageError(`--model: cannot read '${model}': ${(err as Error).message}`)
    }
    return core.importOnnx(bytes)
  }
  throw new UsageError(`--model must be gpt2:CONFIG, a .onnx file or a .json op-cost list, got '${model}'`)
}

function syncFlag(text: string | undefined): SyncSpec | undefined {
  if (text === undefined) return undefined
  const [algorithm, h = '1'] = text.split(':')
  const period = Number(h)
  if (
    !['ssgd', 'local-sgd', 'diloco', 'dreamddp'].includes(algorithm) ||
    !Number.isInteger(period) ||
    period < 1
  ) {
    throw new UsageError(`--sync wants ssgd, local-sgd:H, diloco:H or dreamddp:H, got '${text}'`)
  }
  return { algorithm: algorithm as SyncSpec['algorithm'], period }
}

/** `--bind` over the default batch=8; a name the model has no symbol for is a typo, refused. */
function bindings(text: string | undefined, graph: Graph): Record<string, number> {
  const out: Record<string, number> = { batch: 8 }
  const symbols = core.inputSymbols(graph)
  for (const pair of text?.split(',').filter((p) => p !== '') ?? []) {
    const [name, value] = pair.split('=')
    const n = Number(value)
    if (!name || !Number.isInteger(n) || n < 1)
      throw new UsageError(`--bind wants NAME=POSITIVE_INT pairs, got '${pair}'`)
    if (!symbols.includes(name)) {
      throw new UsageError(
        `--bind names '${name}', not a symbolic input dimension of the model (${symbols.join(', ') || 'none'})`,
      )
    }
    out[name] = n
  }
  return out
}

function required(value: string | undefined, flag: string): string {
  if (value === undefined) throw new UsageError(`--${flag} is required`)
  return value
}

function readText(path: string, flag: string): string {
  try {
    return readFileSync(path, 'utf8')
  } catch (err) {
    throw new UsageError(`--${flag}: cannot read '${path}': ${(err as Error).message}`)
  }
}

function readJson(path: string, flag: string): unknown {
  const text = readText(path, flag)
  try {
    return JSON.parse(text)
  } catch (err) {
    throw new UsageError(`--${flag}: '${path}' is not JSON: ${(err as Error).message}`)
  }
}

function writeJson(path: string, value: unknown): void {
  try {
    writeFileSync(path, `${JSON.stringify(value, null, 2)}\n`)
  } catch (err) {
    throw new UsageError(`--json: cannot write '${path}': ${(err as Error).message}`)
  }
}
