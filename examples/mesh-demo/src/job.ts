/**
 * The demo job: three peers (lab, cloud, home) on this machine with emulated links, their speeds
 * measured by link probes; gpt2:tiny split into three pipeline stages placed along the chain whose
 * slowest link is fastest; trained on Moby Dick with 1F1B micro-batches, every boundary activation
 * and gradient crossing the mesh (fp16 on links under 100 Mbit/s). The peers share this process,
 * and with it one copy of the weights: what crosses the links is exactly the pipeline's traffic.
 */
import { GPT2_CONFIGS, type Graph, gpt2, partitionGraph } from '@atoll/core'
import {
  adamw,
  evaluate,
  lossTrend,
  nodeBackends,
  openDataSource,
  Pipeline,
  pipelineModel,
  type PipelineStage,
  stageGraphsOf,
  stepProgress,
  type TrainableModel,
  Trainer,
} from '@atoll/runtime'
import { Courier, type LinkCodec } from './courier.ts'
import { MeshStage } from './mesh-stage.ts'
import {
  chainOrder,
  type MeasuredLink,
  measureLinks,
  SITE_LINKS,
  type Site,
  startSites,
  stopSites,
} from './sites.ts'

export interface DemoOptions {
  steps: number
  batchSize: number
  microBatches: number
  lr: number
  seed: number
  logEvery: number
}

export interface DemoSummary {
  links: (MeasuredLink & { setMbit: number })[]
  chain: string[]
  stages: { site: string; scopes: string[]; parameters: number; codecIn?: LinkCodec }[]
  steps: number
  firstLoss: number
  lastLoss: number
  heldOutLossBefore: number
  heldOutLossAfter: number
  /** payload bytes per link direction, all steps */
  linkBytes: Record<string, number>
  trainSeconds: number
  transferSeconds: number
  tokensPerSecond: number
}

/** Links under this rate carry fp16 activations and gradients. */
const FP16_BELOW_MBIT = 100

export async function runDemo(options: DemoOptions, progress: (line: string) => void): Promise<DemoSummary> {
  progress(
    `starting 3 peers on 127.0.0.1 (${SITE_LINKS.map((l) => `${l.a}–${l.b} ${l.mbit} Mbit/s`).join(', ')})`,
  )
  const sites = await startSites(SITE_LINKS)
  const courier = new Courier(sites)
  let release = async () => {}
  try {
    progress('probing each link (about a second each)…')
    const measured = await measureLinks(sites, SITE_LINKS)
    for (const m of measured)
      progress(`  ${m.a} ↔ ${m.b}: ${m.mbit.toFixed(1)} Mbit/s, RTT ${m.rttMs.toFixed(0)} ms`)
    const chain = chainOrder(
      sites.map((s) => s.name),
      measured,
    )
    const job = await placeModel(options, sites, measured, chain, courier)
    release = job.release
    for (const p of job.placed)
      progress(
        `  ${p.site}: ${p.scopes.join(', ')} (${p.parameters} parameters)${p.codecIn ? `, inputs arrive as ${p.codecIn}` : ''}`,
      )
    const run = await train(options, job, courier, progress)
    return {
      links: measured.map((m) => ({
        ...m,
        setMbit: SITE_LINKS.find((l) => l.a === m.a && l.b === m.b)!.mbit,
      })),
      chain,
      stages: job.placed,
      steps: options.steps,
      ...run,
      linkBytes: Object.fromEntries(courier.bytes),
      transferSeconds: courier.seconds,
    }
  } finally {
    await courier.close()
    await release()
    await stopSites(sites)
  }
}

type Placed = DemoSummary['stages'][number]

/**
 * gpt2:tiny cut between its blocks into one stage per site of the chain, each stage after the
 * first wrapped so that its boundary tensors cross the link from the site before it.
 */
async function placeModel(
  o: DemoOptions,
  sites: readonly Site[],
  measured: readonly MeasuredLink[],
  chain: readonly string[],
  courier: Courier,
) {
  const site = (name: string): Site => sites.find((s) => s.name === name)!
  const speed = (a: string, b: string) =>
    measured.find((l) => (l.a === a && l.b === b) || (l.a === b && l.b === a))!.mbit
  const zoo = gpt2({ config: 'tiny', seed: o.seed })
  const model: TrainableModel = {
    graph: zoo.graph,
    dataInput: zoo.inputs[0],
    loss: zoo.loss ?? 'loss',
    label: 'gpt2:tiny',
  }
  const partition = partitionGraph(model.graph, {
    loss: model.loss,
    bindings: { batch: o.batchSize / o.microBatches },
    stages: blockStages(GPT2_CONFIGS.tiny.layers, chain.length),
  })
  const { params, pipeline } = pipelineModel(model.graph, {
    backend: await nodeBackends().resolve('cpu'),
    stages: stageGraphsOf(partition),
    loss: model.loss,
  })
  const dataInputs = new Set([model.dataInput, 'targets'])
  const placed: Placed[] = []
  const stages: PipelineStage[] = pipeline.stages.map((s, k) => {
    const codec: LinkCodec | undefined =
      k === 0 ? undefined : speed(chain[k - 1], chain[k]) < FP16_BELOW_MBIT ? 'fp16' : 'raw'
    placed.push({
      site: chain[k],
      scopes: scopesOf(s.graph),
      parameters: parameterCount(s.graph),
      ...(codec ? { codecIn: codec } : {}),
    })
    if (codec === undefined) return s
    return new MeshStage(s, {
      courier,
      upstream: site(chain[k - 1]),
      site: site(chain[k]),
      codec,
      dataInputs,
    })
  })
  return {
    model,
    params,
    pipeline: new Pipeline(stages, model.loss),
    placed,
    release: () => pipeline.release(),
  }
}

/** AdamW with a cosine schedule over the mesh pipeline; the held-out tenth scored before and after. */
async function train(
  o: DemoOptions,
  job: Awaited<ReturnType<typeof placeModel>>,
  courier: Courier,
  progress: (line: string) => void,
) {
  const { model, params, pipeline } = job
  const backend = await nodeBackends().resolve('cpu')
  const data = await openDataSource('moby-dick', model, {
    batchSize: o.batchSize,
    seed: o.seed,
    split: 'train',
  })
  const heldOut = await openDataSource('moby-dick', model, { batchSize: o.batchSize, split: 'eval' })
  const evalBatches = Array.from({ length: Math.min(8, heldOut.batchesPerEpoch) }, (_, k) =>
    heldOut.ordered(k),
  )
  const before = await evaluate(model, params, backend, evalBatches)
  const trainer = new Trainer({
    pipeline,
    params,
    optimizer: adamw(params, { betas: [0.9, 0.95], weightDecay: 0.1 }),
    schedule: {
      kind: 'cosine',
      lr: o.lr,
      warmupSteps: Math.min(20, o.steps),
      totalSteps: o.steps,
      minLr: o.lr / 10,
    },
    clipNorm: 1,
    microBatches: o.microBatches,
  })
  const seq = data.shuffled(0)[model.dataInput].shape[1]
  const onStep = stepProgress(o.steps, o.logEvery, (p) =>
    progress(
      `step ${p.done}/${o.steps}  loss ${p.loss.toFixed(3)}  ` +
        `${((p.done * o.batchSize * seq) / p.seconds).toFixed(0)} tokens/s  ` +
        `${courier.seconds.toFixed(1)} of ${p.seconds.toFixed(1)} s on the links`,
    ),
  )
  const losses: number[] = []
  const t0 = performance.now()
  for (let step = 0; step < o.steps; step++) {
    const t = performance.now()
    const report = await trainer.trainStep(data.shuffled(step))
    losses.push(report.loss)
    onStep({ ...report, seconds: (performance.now() - t) / 1000 })
  }
  const trainSeconds = (performance.now() - t0) / 1000
  const after = await evaluate(model, params, backend, evalBatches)
  const { firstLoss, lastLoss } = lossTrend(losses)
  return {
    firstLoss,
    lastLoss,
    heldOutLossBefore: before.loss,
    heldOutLossAfter: after.loss,
    trainSeconds,
    tokensPerSecond: (o.steps * o.batchSize * seq) / trainSeconds,
  }
}

/** The layer scopes a stage holds (`h.0`, `wte`, …), in order. */
function scopesOf(g: Graph): string[] {
  return [...new Set(g.nodes.map((n) => n.scope.split('.').slice(0, 2).join('.')).filter(Boolean))]
}

function parameterCount(g: Graph): number {
  return [...g.parameters].reduce((n, p) => n + (g.initializers.get(p)?.data.length ?? 0), 0)
}

/** Scopes of `count` stages over a GPT's blocks: embeddings with the first, the head with the last. */
function blockStages(layers: number, count: number): { scopes: string[] }[] {
  return Array.from({ length: count }, (_, s) => {
    const blocks = Array.from({ length: layers }, (_, i) => i)
      .filter((i) => Math.floor((i * count) / layers) === s)
      .map((i) => `h.${i}`)
    return {
      scopes: [
        ...(s === 0 ? ['wte', 'wpe'] : []),
        ...blocks,
        ...(s === count - 1 ? ['ln_f', 'lm_head'] : []),
      ],
    }
  })
}
