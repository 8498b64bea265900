/**
 * Job files: the examples parse, each malformed file is refused naming the field, what was expected
 * and what was found, relative paths start from the file's folder, and a job on one peer has the
 * settings of the equivalent `atoll fit` flags and trains to the same weights as `atoll fit` does
 * (a real `atoll fit` process beside `fit` in this one, real onnxruntime).
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { GPT2_CONFIGS, gpt2, mnistCnn } from '@atoll/core'
import { flagSpec, parseFlags, TRAINING_FLAGS, trainingOptions } from '@atoll/flags'
import { checkFitSettings, fit, nodeBackends, weightsFile } from '@atoll/runtime'
import { stringify } from 'yaml'
import {
  type JobSpec,
  jobModelSource,
  jobTrainingSettings,
  parseJob,
  readJobFile,
  singlePeerRun,
} from '../src/index.ts'

const repo = fileURLToPath(new URL('../../../', import.meta.url))
const scratch = mkdtempSync(join(tmpdir(), 'atoll-job-spec-'))
after(() => rmSync(scratch, { recursive: true, force: true }))

/** A small valid job; each case changes one thing. */
const BASE = {
  name: 'tiny',
  model: 'gpt2:tiny',
  data: { dataset: 'moby-dick', batchSize: 8 },
  steps: 10,
  optimizer: { kind: 'sgd', momentum: 0.9 },
  schedule: { kind: 'constant', lr: 0.1 },
}

const job = (fields: Record<string, unknown> = {}, source = '/jobs/job.yaml') =>
  parseJob(stringify({ ...BASE, ...fields }), source)

test('the example job files parse, with their defaults filled and their paths beside them', () => {
  const gpt = readJobFile(join(repo, 'examples/gpt2-mobydick/job.yaml'))
  assert.equal(gpt.name, 'gpt2-mobydick')
  assert.deepEqual(gpt.model, { zoo: 'gpt2:tiny', seed: 0 })
  assert.deepEqual(gpt.data, { dataset: 'moby-dick', tokenizer: 'bytes', batchSize: 16, seed: 0 })
  assert.deepEqual(gpt.schedule, {
    kind: 'cosine',
    lr: 0.003,
    warmupSteps: 30,
    totalSteps: 600,
    minLr: 0.0003,
  })
  assert.deepEqual(
    [gpt.placement, gpt.compression, gpt.peers, gpt.loss],
    ['fence', 'adatopk', [], 'cross-entropy'],
  )
  assert.deepEqual(gpt.checkpoint, { dir: join(repo, 'examples/gpt2-mobydick/checkpoints'), every: 100 })
  const cnn = readJobFile(join(repo, 'examples/mnist-cnn/job.yaml'))
  assert.deepEqual(cnn.model, { zoo: 'mnist-cnn', seed: 0 })
  assert.deepEqual(cnn.data, { dataset: 'mnist', batchSize: 64, seed: 0 })
  assert.deepEqual(cnn.schedule, { kind: 'cosine', lr: 0.003, warmupSteps: 0, totalSteps: 1330, minLr: 0 })
  assert.deepEqual([cnn.clip, cnn.microBatches, cnn.eval.every, cnn.eval.batches], [0, 1, 133, 22])
})

test('the example jobs hold the settings and the model their src/ trains with fit', async () => {
  const examples = [
    ['gpt2-mobydick', gpt2({ config: { ...GPT2_CONFIGS.tiny, vocab: 256 }, seq: 32, seed: 0 })],
    ['mnist-cnn', mnistCnn({ seed: 0, batchNorm: true })],
  ] as const
  for (const [name, zoo] of examples) {
    const options = await import(join(repo, `examples/${name}/src/options.ts`))
    const { training } = options.parseOptions([])
    const spec = readJobFile(join(repo, `examples/${name}/job.yaml`))
    const settings = jobTrainingSettings(spec)
    // the example computes its floor as lr / 10, a bit above the 0.0003 the file can say plainly
    assert.ok(Math.abs(minLr(settings.schedule) - minLr(training.schedule)) <= 1e-15, name)
    const same = (s: typeof settings) => ({
      ...s,
      schedule: { ...s.schedule, minLr: 0 },
      microBatches: s.microBatches ?? 1,
    })
    assert.deepEqual(same(settings), same(pick(training, settings)), name)
    const run = await singlePeerRun(spec)
    assert.deepEqual(run.model.graph.initializers, zoo.graph.initializers, `${name}: the same weights`)
  }
})

const minLr = (schedule: JobSpec['schedule']) => (schedule.kind === 'cosine' ? (schedule.minLr ?? 0) : 0)

/** The fields of `from` that `like` has. */
function pick<T extends object>(from: object, like: T): T {
  return Object.fromEntries(
    Object.keys(like).map((key) => [key, (from as Record<string, unknown>)[key]]),
  ) as T
}

const yamlCases: [string, string, string][] = [
  [
    'a YAML syntax error names the line',
    'name: x\nsteps: [1\nmodel: gpt2:tiny\n',
    'line 3, column 1: Flow sequence in block collection must be sufficiently indented and end with a ]',
  ],
  ['a key given twice', 'name: x\nname: y\n', 'line 2, column 1: Map keys must be unique'],
  ['an empty file', '', 'expected an object, found null'],
  ['a list', '- name: x\n', 'expected an object, found a list of 1 item'],
]

const fieldCases: [string, Record<string, unknown>, string][] = [
  [
    'an unknown field',
    { optimiser: 'sgd' },
    'optimiser: expected one of the fields name, model, data, loss, steps, optimizer, schedule, clip, microBatches, placement, compression, sync, peers, checkpoint, eval, found an unknown field',
  ],
  [
    'an unknown nested field',
    { data: { ...BASE.data, batch_size: 8 } },
    'data.batch_size: expected one of the fields dataset, tokenizer, seq, batchSize, seed, found an unknown field',
  ],
  ['a missing field', { steps: undefined }, 'steps: expected an integer ≥ 1, found nothing'],
  ['a wrong type', { steps: 'ten' }, 'steps: expected an integer ≥ 1, found "ten"'],
  ['a fraction of a step', { steps: 2.5 }, 'steps: expected an integer ≥ 1, found 2.5'],
  [
    'a negative rate',
    { schedule: { kind: 'constant', lr: -1 } },
    'schedule.lr: expected a finite number ≥ 0, found -1',
  ],
  ['a negative clip', { clip: -1 }, 'clip: expected a finite number ≥ 0, found -1'],
  [
    'a sync algorithm without its period',
    { sync: { algorithm: 'diloco' } },
    'sync.period: expected a period H ≥ 1 for diloco, found nothing',
  ],
  [
    'an unknown sync algorithm',
    { sync: { algorithm: 'allreduce' } },
    'sync.algorithm: expected one of "ssgd", "local-sgd", "localsgd", "dreamddp", "diloco", found "allreduce"',
  ],
  [
    'a bad job name',
    { name: 'My Job' },
    'name: expected a job name: 1 to 64 of a-z, 0-9, ".", "_", "-", the first a letter or digit, found "My Job"',
  ],
  [
    'an unknown zoo model',
    { model: { zoo: 'gpt2:huge' } },
    'model.zoo: expected one of "gpt2:tiny", "gpt2:mini", "gpt2:d384", "gpt2:small", "gpt2:124M", "mlp", "mnist-cnn", "resnet18", found "gpt2:huge"',
  ],
  [
    'an unknown model name',
    { model: 'gpt2:huge' },
    'model: expected a zoo model (gpt2:tiny, gpt2:mini, gpt2:d384, gpt2:small, gpt2:124M, mlp, mnist-cnn, resnet18) or the path of an .onnx file, or an object { zoo, seed, init } or { onnx, retie, init }, found "gpt2:huge"',
  ],
  [
    'a zoo model and a file',
    { model: { zoo: 'mlp', onnx: 'm.onnx' } },
    'model: expected a zoo model (gpt2:tiny, gpt2:mini, gpt2:d384, gpt2:small, gpt2:124M, mlp, mnist-cnn, resnet18) or the path of an .onnx file, or an object { zoo, seed, init } or { onnx, retie, init }, found an object',
  ],
  [
    'an unknown dataset',
    { data: { dataset: 'wikitext' } },
    'data.dataset: expected one of "moby-dick", "sotu", "mnist", "fashion-mnist", found "wikitext"',
  ],
  [
    'an unknown tokenizer',
    { data: { dataset: 'sotu', tokenizer: 'bpe' } },
    'data.tokenizer: expected one of "bytes", "gpt2", found "bpe"',
  ],
  [
    'images for a GPT',
    { data: { dataset: 'mnist' } },
    'data.dataset: expected a text dataset (moby-dick, sotu) for gpt2:tiny, found "mnist"',
  ],
  [
    'text for a CNN',
    { model: 'mnist-cnn' },
    'data.dataset: expected an image dataset (mnist, fashion-mnist) for mnist-cnn, found "moby-dick"',
  ],
  [
    'a tokenizer for images',
    { model: 'mlp', data: { dataset: 'mnist', tokenizer: 'gpt2' } },
    'data.tokenizer: expected no tokenizer (mnist holds images), found "gpt2"',
  ],
  [
    'a sequence past the context',
    { data: { dataset: 'moby-dick', seq: 64 } },
    "data.seq: expected an integer in [1, 32] (gpt2:tiny's context), found 64",
  ],
  [
    'micro-batches that do not divide the batch',
    { microBatches: 3 },
    'microBatches: expected a divisor of data.batchSize (8), found 3',
  ],
  [
    'a cosine warm-up longer than the steps',
    { schedule: { kind: 'cosine', lr: 0.1, warmupSteps: 11 } },
    'schedule.warmupSteps: expected an integer ≤ the total steps (10), found 11',
  ],
  [
    'a floor above the peak',
    { schedule: { kind: 'cosine', lr: 0.1, minLr: 0.2 } },
    'schedule.minLr: expected a number ≤ the peak lr (0.1), found 0.2',
  ],
  [
    'a warm-up for a constant rate',
    { schedule: { kind: 'constant', lr: 0.1, warmupSteps: 2 } },
    'schedule.warmupSteps: expected one of the fields kind, lr, found an unknown field',
  ],
  [
    'an option of the other optimizer',
    { optimizer: { kind: 'sgd', betas: [0.9, 0.99] } },
    'optimizer.betas: expected one of the fields kind, momentum, dampening, nesterov, weightDecay, found an unknown field',
  ],
  [
    'an optimizer option out of range',
    { optimizer: { kind: 'adamw', betas: [0.9, 1] } },
    'optimizer.betas[1]: expected a finite number in [0, 1), found 1',
  ],
  [
    'Nesterov without momentum',
    { optimizer: { kind: 'sgd', nesterov: true } },
    'optimizer.nesterov: expected Nesterov only with a momentum > 0 and zero dampening, found true',
  ],
  [
    'an unknown optimizer',
    { optimizer: { kind: 'lion' } },
    'optimizer.kind: expected one of "sgd", "adamw", found "lion"',
  ],
  [
    'a peer address without its id',
    { peers: ['/ip4/10.0.0.1/tcp/4001'] },
    'peers[0]: expected a multiaddr ending in /p2p/<peer id>, found "/ip4/10.0.0.1/tcp/4001"',
  ],
  [
    'a peer address that is no multiaddr',
    { peers: ['10.0.0.1:4001'] },
    'peers[0]: expected a multiaddr (String multiaddr must start with "/"), found "10.0.0.1:4001"',
  ],
  [
    'an unknown placement',
    { placement: 'greedy' },
    'placement: expected one of "fence", "even", "random" or a list of 1 to 1024 items, found "greedy"',
  ],
  [
    'a stage without scopes',
    { placement: [{ peer: 'lab-1' }] },
    'placement[0].scopes: expected a list of 1 to 4096 items, found nothing',
  ],
  [
    'a stage without a peer',
    { placement: [{ peer: 'lab-1', scopes: ['wte', 'h.0'] }, { scopes: ['h.1'] }] },
    'placement[1].peer: expected a string of 1 to 256 characters, found nothing',
  ],
  [
    'a stage with node names',
    { placement: [{ peer: 'lab-1', scopes: ['h'], nodes: ['n1'] }] },
    'placement[0].nodes: expected one of the fields peer, scopes, found an unknown field',
  ],
  [
    'a keep ratio of 0',
    { compression: { codec: 'topk-fp16', keep: 0 } },
    'compression.keep: expected a finite number in (0, 1], found 0',
  ],
  [
    'a keep ratio above 1',
    { compression: { codec: 'topk-fp16', keep: 1.5 } },
    'compression.keep: expected a finite number in (0, 1], found 1.5',
  ],
  [
    'top-k without its ratio',
    { compression: { codec: 'topk-fp16' } },
    'compression.keep: expected a finite number in (0, 1], found nothing',
  ],
  [
    'a keep ratio for fp16',
    { compression: { codec: 'fp16', keep: 0.5 } },
    'compression.keep: expected one of the fields codec, found an unknown field',
  ],
  [
    'an unknown codec',
    { compression: { codec: 'zstd' } },
    'compression.codec: expected one of "fp16", "int8", "topk-fp16", found "zstd"',
  ],
  [
    'a checkpoint every 0 steps',
    { checkpoint: { every: 0 } },
    'checkpoint.every: expected an integer ≥ 1, found 0',
  ],
  ['an unknown loss', { loss: 'mse' }, 'loss: expected "cross-entropy", found "mse"'],
]

test('a malformed job file is refused, naming the file, the field, what was expected and what was found', () => {
  for (const [what, text, message] of yamlCases)
    assert.throws(
      () => parseJob(text, 'job.yaml'),
      { name: 'JobFileError', message: `job.yaml: ${message}` },
      what,
    )
  for (const [what, fields, message] of fieldCases)
    assert.throws(() => job(fields), { name: 'JobFileError', message: `/jobs/job.yaml: ${message}` }, what)
  assert.throws(() => readJobFile(join(scratch, 'absent.yaml')), {
    name: 'JobFileError',
    message: new RegExp(`^cannot read the job file ${join(scratch, 'absent.yaml')}: ENOENT`),
  })
})

test('a job takes what it leaves out from the defaults docs/jobs.md lists', () => {
  const spec = job()
  assert.deepEqual(spec.model, { zoo: 'gpt2:tiny', seed: 0 })
  assert.deepEqual(spec.data, { dataset: 'moby-dick', tokenizer: 'bytes', batchSize: 8, seed: 0 })
  assert.deepEqual(
    [spec.loss, spec.clip, spec.microBatches, spec.placement, spec.compression, spec.peers],
    ['cross-entropy', 0, 1, 'fence', 'adatopk', []],
  )
  assert.deepEqual(spec.checkpoint, { dir: '/jobs/checkpoints/tiny', every: 100 })
  assert.deepEqual(spec.eval, { every: 100, batches: 20 })
  assert.equal(job({ data: { dataset: 'mnist' }, model: 'mlp' }).data.batchSize, 32)
  const placed = job({
    placement: [
      { peer: 'lab-1', scopes: ['wte', 'h.0'] },
      { peer: '12D3KooWx', scopes: ['h.1'] },
    ],
  })
  assert.deepEqual(placed.placement, {
    stages: [
      { peer: 'lab-1', scopes: ['wte', 'h.0'] },
      { peer: '12D3KooWx', scopes: ['h.1'] },
    ],
  })
  const fixed = job({ compression: { codec: 'topk-fp16', keep: 0.05 }, peers: [PEER] })
  assert.deepEqual([fixed.compression, fixed.peers], [{ codec: 'topk-fp16', keep: 0.05 }, [PEER]])
  // a cosine given its own length keeps it
  assert.deepEqual(job({ schedule: { kind: 'cosine', lr: 0.1, totalSteps: 4 } }).schedule, {
    kind: 'cosine',
    lr: 0.1,
    warmupSteps: 0,
    totalSteps: 4,
    minLr: 0,
  })
})

const PEER = '/ip4/10.0.0.1/tcp/4001/p2p/12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN'

test("relative paths start from the job file's folder, absolute ones stay", async () => {
  const folder = join(scratch, 'relative')
  const models = join(scratch, 'models')
  for (const dir of [folder, models]) spawnSync('mkdir', ['-p', dir])
  copyFileSync(join(repo, 'packages/runtime/test/fixtures/gpt_fit.onnx'), join(models, 'gpt.onnx'))
  const file = join(folder, 'job.yaml')
  const text = {
    model: { onnx: '../models/gpt.onnx', init: 'w.safetensors' },
    checkpoint: { dir: 'out/ckpt' },
  }
  writeFileSync(file, stringify({ ...BASE, ...text }))
  const spec = readJobFile(file)
  assert.deepEqual(spec.model, {
    onnx: join(models, 'gpt.onnx'),
    retie: true,
    init: join(folder, 'w.safetensors'),
  })
  assert.equal(spec.checkpoint.dir, join(folder, 'out/ckpt'))
  assert.deepEqual(job({ model: '/models/a.onnx', checkpoint: { dir: '/ckpt' } }, 'x/job.yaml').model, {
    onnx: '/models/a.onnx',
    retie: true,
  })
  // the ONNX file is read from where the job file points: its sequence is 16 tokens
  const source = jobModelSource(spec)
  assert.ok('onnx' in source && source.onnx.length > 0)
  await assert.rejects(singlePeerRun(spec), {
    name: 'JobFileError',
    message: `${file}: model.init: cannot read ${join(folder, 'w.safetensors')}: ENOENT: no such file or directory, open '${join(folder, 'w.safetensors')}'`,
  })
  writeFileSync(
    file,
    stringify({ ...BASE, model: '../models/gpt.onnx', data: { dataset: 'moby-dick', seq: 32 } }),
  )
  await assert.rejects(singlePeerRun(readJobFile(file)), {
    name: 'JobFileError',
    message: `${file}: data.seq: expected the sequence length of ${join(models, 'gpt.onnx')} (16), found 32`,
  })
  writeFileSync(file, stringify({ ...BASE, model: '../models/gpt.onnx' }))
  const run = await singlePeerRun(readJobFile(file))
  assert.deepEqual(run.batch(0).input_ids.shape, [8, 16])
})

/** A job and the `atoll fit` flags that say the same. */
const equivalents: [Record<string, unknown>, string][] = [
  [{}, '--optimizer sgd --momentum 0.9 --lr 0.1 --steps 10 --batch-size 8 --micro-batches 1'],
  [
    { data: { dataset: 'moby-dick' }, steps: 3 },
    '--optimizer sgd --momentum 0.9 --lr 0.1 --steps 3 --micro-batches 1', // atoll fit's batch size: 32
  ],
  [
    {
      data: { dataset: 'moby-dick', batchSize: 8, seed: 3 },
      model: { zoo: 'gpt2:tiny', seed: 3 },
      steps: 3,
      optimizer: { kind: 'adamw', betas: [0.9, 0.95], weightDecay: 0.1, eps: 1e-6, amsgrad: true },
      schedule: { kind: 'cosine', lr: 0.003, warmupSteps: 1, minLr: 0.0003 },
      clip: 1,
      microBatches: 2,
    },
    '--optimizer adamw --betas 0.9,0.95 --weight-decay 0.1 --eps 1e-6 --amsgrad --lr 0.003 --schedule cosine ' +
      '--warmup 1 --min-lr 0.0003 --clip 1 --micro-batches 2 --batch-size 8 --seed 3 --steps 3',
  ],
  [
    {
      optimizer: { kind: 'sgd', momentum: 0.5, dampening: 0.1, weightDecay: 0.01 },
      schedule: { kind: 'cosine', lr: 1 },
    },
    '--optimizer sgd --momentum 0.5 --dampening 0.1 --weight-decay 0.01 --lr 1 --schedule cosine --steps 10 --batch-size 8 --micro-batches 1',
  ],
]

/** What `atoll fit` makes of `line` (its only default is a batch size of 32). */
function fitSettings(line: string) {
  const { values } = parseFlags(line.split(' '), flagSpec(TRAINING_FLAGS))
  return trainingOptions(values, { batchSize: 32 }, checkFitSettings)
}

test("a job's settings are those of the equivalent atoll fit flags", () => {
  for (const [fields, line] of equivalents) {
    const settings = jobTrainingSettings(job(fields))
    assert.deepEqual(settings, pick(fitSettings(line), settings), line)
  }
})

test('a job on one peer trains to the weights atoll fit trains to, step for step', async () => {
  const [fields, line] = equivalents[2]
  const dir = join(scratch, 'fit')
  spawnSync('mkdir', ['-p', dir])
  const cli = spawnSync(
    process.execPath,
    [
      join(repo, 'packages/cli/src/main.ts'),
      'fit',
      '--model',
      'gpt2:tiny',
      '--data',
      'moby-dick',
      ...line.split(' '),
      '--device',
      'cpu',
      '--threads',
      '1',
      '--log',
      join(dir, 'fit.jsonl'),
      '--save',
      join(dir, 'fit.safetensors'),
    ],
    { encoding: 'utf8' },
  )
  assert.equal(cli.status, 0, cli.stderr)
  const run = await singlePeerRun(job(fields, join(dir, 'job.yaml')))
  const backend = await nodeBackends().resolve('cpu')
  // atoll fit was given no --checkpoint; the job's would resume from a checkpoint folder
  const result = await fit({
    ...run,
    backend,
    checkpoint: undefined,
    intraOpThreads: 1,
    log: join(dir, 'job.jsonl'),
  })
  assert.equal(readFileSync(join(dir, 'job.jsonl'), 'utf8'), readFileSync(join(dir, 'fit.jsonl'), 'utf8'))
  assert.equal(result.losses.length, 3)
  assert.deepEqual(
    weightsFile(result.params, result.state),
    new Uint8Array(readFileSync(join(dir, 'fit.safetensors'))),
  )
})
