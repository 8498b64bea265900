import assert from 'node:assert/strict'
import { test } from 'node:test'
// the runtime is the flags' for its types only; its check is what programs pass to trainingOptions
import { checkFitSettings, nodeBackends } from '@atoll/runtime'
import {
  deviceChoices,
  flagSpec,
  parseFlags,
  TRAINING_FLAGS,
  trainingOptions,
  trainingUsage,
  UsageError,
} from '../src/index.ts'

type Defaults = Parameters<typeof trainingOptions>[1]

/** `trainingOptions` of a command line written as one string, over `defaults` (atoll fit's by default). */
const options = (line: string, defaults: Defaults = { batchSize: 32 }) =>
  trainingOptions(
    parseFlags(line.split(' ').filter(Boolean), flagSpec(TRAINING_FLAGS)).values,
    defaults,
    checkFitSettings,
  )

function usageError(line: string, message: RegExp): void {
  assert.throws(
    () => options(line),
    (err: Error) => err instanceof UsageError && message.test(err.message),
  )
}

test("atoll fit's flags: optimizer, schedule and run as fit takes them", () => {
  assert.deepEqual(options('--optimizer sgd --lr 0.5 --momentum 0.9 --nesterov --steps 6'), {
    steps: 6,
    batchSize: 32,
    optimizer: { kind: 'sgd', momentum: 0.9, nesterov: true },
    schedule: { kind: 'constant', lr: 0.5 },
    clipNorm: undefined,
    microBatches: undefined,
    seed: 0,
    device: undefined,
    intraOpThreads: undefined,
    precision: 'fp32',
    log: undefined,
    save: undefined,
  })
  const adamw = options(
    '--optimizer adamw --lr 0.01 --steps 100 --betas 0.9,0.95 --amsgrad --optimizer-threads 2 ' +
      '--weight-decay 0.1 --schedule cosine --warmup 10 --min-lr 0.001 --clip 1 --micro-batches 4 ' +
      '--seed 3 --threads 2 --device webgpu',
  )
  const { optimizer, schedule } = adamw
  assert.deepEqual(optimizer, {
    kind: 'adamw',
    betas: [0.9, 0.95],
    amsgrad: true,
    threads: 2,
    weightDecay: 0.1,
  })
  assert.deepEqual(schedule, { kind: 'cosine', lr: 0.01, warmupSteps: 10, totalSteps: 100, minLr: 0.001 })
  const { clipNorm, microBatches, seed, intraOpThreads, device } = adamw
  assert.deepEqual([clipNorm, microBatches, seed, intraOpThreads, device], [1, 4, 3, 2, 'webgpu'])
})

test('without a default, steps, lr and the optimizer are required', () => {
  usageError('--optimizer sgd --lr 1', /^--steps N is required$/)
  usageError('--optimizer sgd --steps 1', /^--lr X is required$/)
  usageError('--lr 1 --steps 1', /^--optimizer sgd\|adamw is required$/)
})

test("one optimizer's flags are refused with the other, and the schedule's with a constant rate", () => {
  const sgd = '--lr 1 --steps 10 --optimizer sgd'
  const adamw = '--lr 1 --steps 10 --optimizer adamw'
  usageError(`${adamw} --momentum 0.9`, /^--momentum is not an option of --optimizer adamw$/)
  usageError(`${adamw} --nesterov`, /^--nesterov is not an option of --optimizer adamw$/)
  usageError(`${sgd} --eps 1e-6`, /^--eps is not an option of --optimizer sgd$/)
  usageError(`${sgd} --optimizer-threads 2`, /^--optimizer-threads is not an option of --optimizer sgd$/)
  usageError(`${sgd} --warmup 2`, /^--warmup is not an option of --schedule constant$/)
  usageError(`${sgd} --min-lr 0.1`, /^--min-lr is not an option of --schedule constant$/)
  usageError(
    `${sgd} --nesterov`,
    /^--nesterov: expected Nesterov only with a momentum > 0 and zero dampening, found true$/,
  )
  usageError(
    `${sgd} --schedule cosine --warmup 11`,
    /^--warmup: expected an integer ≤ the total steps \(10\), found 11$/,
  )
  usageError(
    `${sgd} --schedule cosine --min-lr 2`,
    /^--min-lr: expected a number ≤ the peak lr \(1\), found 2$/,
  )
})

test('each flag is checked against its schema, and the error shows what was typed', () => {
  const sgd = '--lr 1 --steps 10 --optimizer sgd'
  const adamw = '--lr 1 --steps 10 --optimizer adamw'
  usageError(`${sgd} --schedule step`, /^--schedule: expected one of "constant", "cosine", found "step"$/)
  usageError(`${adamw} --betas 0.9`, /^--betas: expected two numbers B1,B2, found "0\.9"$/)
  usageError(`${adamw} --betas 0.9,1`, /^--betas\[1\]: expected a finite number in \[0, 1\), found 1$/)
  usageError(
    '--lr 1 --steps 10 --optimizer lion',
    /^--optimizer: expected one of "sgd", "adamw", found "lion"$/,
  )
  usageError(`${sgd} --steps 1.5`, /^--steps: expected an integer ≥ 0, found "1\.5"$/)
  usageError(`${sgd} --momentum 2`, /^--momentum: expected a finite number in \[0, 1\], found "2"$/)
  usageError(`${sgd} --log /no-such-folder/steps.jsonl`, /^--log: cannot write/)
})

test('the field each flag says it sets is where trainingOptions puts its value', () => {
  const at = (value: unknown, path: string) =>
    path.split('.').reduce((v, key) => (v as Record<string, unknown>)[key], value)
  // flag, its text (none for a switch), the value it sets, the optimizer it belongs with
  const cases = [
    ['steps', '7', 7, 'sgd'],
    ['optimizer', 'adamw', 'adamw', 'adamw'],
    ['lr', '0.5', 0.5, 'sgd'],
    ['momentum', '0.25', 0.25, 'sgd'],
    ['dampening', '0.125', 0.125, 'sgd'],
    ['nesterov', undefined, true, 'sgd'],
    ['betas', '0.5,0.75', [0.5, 0.75], 'adamw'],
    ['eps', '0.001', 0.001, 'adamw'],
    ['amsgrad', undefined, true, 'adamw'],
    ['optimizer-threads', '3', 3, 'adamw'],
    ['weight-decay', '0.0625', 0.0625, 'sgd'],
    ['schedule', 'cosine', 'cosine', 'sgd'],
    ['warmup', '2', 2, 'sgd'],
    ['min-lr', '0.0625', 0.0625, 'sgd'],
  ] as const
  const flags = TRAINING_FLAGS as Record<string, { sets?: string }>
  const setters = Object.keys(flags).filter((flag) => flags[flag].sets !== undefined)
  assert.deepEqual(
    setters,
    cases.map(([flag]) => flag),
    'a case for each flag that sets a field',
  )
  for (const [flag, text, value, optimizer] of cases) {
    // Nesterov needs a momentum to look ahead along
    const momentum = flag === 'nesterov' ? ' --momentum 0.5' : ''
    const line = `--lr 1 --steps 10 --schedule cosine --optimizer ${optimizer}${momentum} --${flag} ${text ?? ''}`
    assert.deepEqual(at(options(line), flags[flag].sets ?? ''), value, `--${flag}`)
  }
})

test("a program's defaults fill what the flags leave out, and a flag overrides its default", () => {
  const base: Defaults = { steps: 50, batchSize: 8, lr: 0.1, optimizer: 'adamw', schedule: 'cosine', clip: 2 }
  const recipe = { ...base, adamw: { eps: 1e-6, weightDecay: 0.05 }, sgd: { momentum: 0.5 }, warmup: 5 }
  const plain = options('', recipe)
  assert.deepEqual(plain.optimizer, { kind: 'adamw', eps: 1e-6, weightDecay: 0.05 })
  assert.deepEqual(plain.schedule, { kind: 'cosine', lr: 0.1, warmupSteps: 5, totalSteps: 50, minLr: 0 })
  assert.deepEqual([plain.steps, plain.batchSize, plain.clipNorm], [50, 8, 2])
  const mine = options('--weight-decay 0 --clip 0 --schedule constant --batch-size 4', {
    ...recipe,
    warmup: undefined,
  })
  assert.deepEqual(mine.optimizer, { kind: 'adamw', eps: 1e-6, weightDecay: 0 })
  assert.deepEqual(mine.schedule, { kind: 'constant', lr: 0.1 })
  assert.equal(mine.clipNorm, undefined, '--clip 0 does not clip')
  assert.equal(mine.batchSize, 4)
  // the other optimizer gets its own defaults, not the default optimizer's
  assert.deepEqual(options('--optimizer sgd', recipe).optimizer, { kind: 'sgd', momentum: 0.5 })
})

test('a default may depend on the flags as given', () => {
  const scheduleOf = (line: string) =>
    options(line, ({ steps = 600, lr = 0.003 }) => {
      const warmup = Math.round(steps * 0.05)
      return { steps, lr, batchSize: 16, optimizer: 'adamw', schedule: 'cosine', warmup, minLr: lr / 10 }
    }).schedule
  assert.deepEqual(scheduleOf(''), {
    kind: 'cosine',
    lr: 0.003,
    warmupSteps: 30,
    totalSteps: 600,
    minLr: 0.003 / 10,
  })
  const given = scheduleOf('--steps 100 --lr 0.01 --warmup 0')
  assert.deepEqual(given, { kind: 'cosine', lr: 0.01, warmupSteps: 0, totalSteps: 100, minLr: 0.01 / 10 })
})

test('every training flag has a usage line that shows its default or says it is required', () => {
  const devices = deviceChoices(nodeBackends(), 'cpu')
  const lines = trainingUsage({ batchSize: 32 }, devices)
  for (const flag of Object.keys(TRAINING_FLAGS))
    assert.ok(
      lines.some((l) => l.startsWith(`  --${flag} `)),
      `no usage line for --${flag}`,
    )
  assert.ok(lines.some((l) => /--steps N +optimizer steps \(required\)$/.test(l)))
  assert.ok(lines.some((l) => /--batch-size B +samples per step \(default 32\)$/.test(l)))
  const notes = { warmup: '5% of the steps' }
  const recipe = trainingUsage({ batchSize: 16, steps: 600, optimizer: 'adamw', lr: 0.003 }, devices, notes)
  assert.ok(recipe.some((l) => /--optimizer O +sgd \| adamw \(default adamw\)$/.test(l)))
  assert.ok(recipe.some((l) => /--warmup N +.*\(default 5% of the steps\)$/.test(l)))
})

test("--device offers what the runtime's registry holds, the default first", () => {
  const registry = nodeBackends()
  assert.equal(
    deviceChoices(registry, 'cpu'),
    `cpu (the default) | ${registry
      .choices()
      .filter((c) => c !== 'cpu')
      .join(' | ')}`,
  )
  const line = trainingUsage({ batchSize: 32 }, deviceChoices(registry, 'cpu')).find((l) =>
    l.startsWith('  --device'),
  )
  for (const choice of ['auto', 'gpu', 'cuda', 'webgpu', 'cpu', 'reference'])
    assert.match(line ?? '', new RegExp(`\\b${choice}\\b`))
  registry.register({ name: 'tpu', priority: 400, init: () => Promise.reject(new Error('none here')) })
  assert.match(deviceChoices(registry, 'cpu'), /^cpu \(the default\) \| auto \| gpu \| tpu \| cuda/)
})
