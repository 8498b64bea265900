import type { Graph } from '@atoll/core'
import {
  flagValue,
  numeric,
  outputFlag,
  parseFlags,
  readInput,
  readJsonInput,
  readTextInput,
  required,
  UsageError,
  valueFlags,
  writeJsonOutput,
} from '@atoll/flags'
import type { OpCost, SyncSpec } from '@atoll/sched'
import * as z from 'zod/mini'
import type { Command } from '../command.ts'
import { bindingsFlag } from './model-args.ts'

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

/** DreamDDP's period H: its schedule is solved over H iterations. */
const PERIOD = numeric(z.int().check(z.gte(1), z.lte(255)))
const MICRO_BATCHES = numeric(z.int().check(z.gte(1), z.lte(1e6)))
const SYNC_ALGORITHMS = ['ssgd', 'local-sgd', 'diloco', 'dreamddp'] as const satisfies SyncSpec['algorithm'][]

/** `ALG[:H]`: how stage replicas synchronise, every H steps (default 1). */
const SYNC = z.pipe(
  z.string(),
  z.transform((text, ctx): SyncSpec => {
    const [algorithm, h = '1', ...rest] = text.split(':')
    const period = Number(h)
    const known = (SYNC_ALGORITHMS as readonly string[]).includes(algorithm)
    if (known && Number.isInteger(period) && period >= 1 && rest.length === 0)
      return { algorithm: algorithm as SyncSpec['algorithm'], period }
    const expected = `${SYNC_ALGORITHMS.join(', ')}, each optionally :H with H an integer ≥ 1`
    ctx.issues.push({ code: 'custom', input: text, message: expected })
    return z.NEVER
  }),
)

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
  const { values } = parseFlags(args, valueFlags('bp', 'comm', 'period', 'json'))
  const json = outputFlag('json', values.json)
  const period = required('period', flagValue('period', values.period, PERIOD))
  const layerTimes = (flag: 'bp' | 'comm') => {
    const path = required(flag, values[flag])
    return sched.parseLayerTimes(readTextInput(path, `--${flag}`), path)
  }
  const bp = layerTimes('bp')
  const comm = layerTimes('comm')
  const result = sched.planDreamDdp(sched.syncProblem(bp, comm, period))
  const b = result.baselines
  console.log(
    [
      `DreamDDP, H = ${period}: wait ${result.waitPerPeriod.toFixed(4)} s per period (${result.optimal ? 'optimal under the model' : `lower bound ${result.lowerBound.toFixed(4)} s`})`,
      `iteration ${result.iterationTime.toFixed(4)} s; S-SGD ${b.ssgd.toFixed(4)} s, overlapped S-SGD ${b.ssgdOverlapped.toFixed(4)} s, Local SGD ${b.localSgd.toFixed(4)} s`,
      `syncs per period: ${result.syncs.solved} solved, ${result.syncs.filled} after fill-in`,
    ].join('\n'),
  )
  if (json !== undefined) writeJsonOutput(json, result)
  return 0
}

function fence(args: string[]): number {
  const { values } = parseFlags(
    args,
    valueFlags('peers', 'links', 'model', 'micro-batches', 'bind', 'sync', 'json'),
  )
  const json = outputFlag('json', values.json)
  const sync = flagValue('sync', values.sync, SYNC)
  const microBatches = flagValue('micro-batches', values['micro-batches'], MICRO_BATCHES)
  const peersFile = required('peers', values.peers)
  const linksFile = required('links', values.links)
  const peers = sched.parsePeers(readJsonInput(peersFile, '--peers'), peersFile)
  const links = sched.parseLinks(readJsonInput(linksFile, '--links'), linksFile)
  const ops = modelOps(required('model', values.model), values.bind)
  const input = { peers, links, ops, microBatches }
  const fenced = sched.planFence(input, { sync })
  const even = sched.planEven(input)
  console.log(sched.formatPlan(fenced, even))
  if (json !== undefined) {
    writeJsonOutput(json, {
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
    return sched.parseOpCosts(readJsonInput(model, '--model'), model)
  }
  const graph = modelGraph(model)
  // the micro-batch size: a model's batch dimension is what one stage sees at a time
  return sched.opCostsOfGraph(graph, bindingsFlag(bind, core.inputSymbols(graph), { batch: 8 }))
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
  if (model.endsWith('.onnx')) return core.importOnnx(readInput(model, '--model'))
  throw new UsageError(`--model must be gpt2:CONFIG, a .onnx file or a .json op-cost list, got '${model}'`)
}
