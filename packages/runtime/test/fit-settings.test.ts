import assert from 'node:assert/strict'
import { test } from 'node:test'
import { checkFitSettings, fit, type Progress, stepProgress } from '../src/index.ts'

type Settings = Parameters<typeof checkFitSettings>[0]

const sgd: Settings = {
  steps: 10,
  optimizer: { kind: 'sgd', momentum: 0.9 },
  schedule: { kind: 'constant', lr: 1 },
}
const cosine = { kind: 'cosine', lr: 1, warmupSteps: 2, totalSteps: 10, minLr: 0.1 } as const

function refused(settings: unknown, name: string, message: string): void {
  assert.throws(() => checkFitSettings(settings as Settings), { name, message })
}

test('a run whose optimizer and schedule agree with themselves is accepted as it is', () => {
  checkFitSettings(sgd)
  checkFitSettings({
    steps: 10,
    optimizer: { kind: 'adamw', betas: [0.9, 0.95], threads: 2 },
    schedule: cosine,
  })
  checkFitSettings({ ...sgd, schedule: { ...cosine, warmupSteps: 10, minLr: 1 } }) // the bounds themselves
})

test('each optimizer takes its own options only, and each schedule its own fields', () => {
  const unknown = 'found an unknown field'
  refused(
    { ...sgd, optimizer: { kind: 'sgd', betas: [0.9, 0.99] } },
    'OptimizerConfigError',
    `optimizer.betas: expected one of the fields kind, momentum, dampening, nesterov, weightDecay, ${unknown}`,
  )
  refused(
    { ...sgd, optimizer: { kind: 'adamw', momentum: 0.9 } },
    'OptimizerConfigError',
    `optimizer.momentum: expected one of the fields kind, betas, eps, weightDecay, amsgrad, threads, ${unknown}`,
  )
  refused(
    { ...sgd, schedule: { kind: 'constant', lr: 1, warmupSteps: 2 } },
    'OptimizerConfigError',
    `schedule.warmupSteps: expected one of the fields kind, lr, ${unknown}`,
  )
  refused(
    { ...sgd, optimizer: { kind: 'lion' } },
    'OptimizerConfigError',
    'optimizer.kind: expected one of "sgd", "adamw", found "lion"',
  )
})

test("a cosine's warm-up fits in its steps and its floor stays under its peak, named at the field", () => {
  refused(
    { ...sgd, schedule: { ...cosine, warmupSteps: 11 } },
    'OptimizerConfigError',
    'schedule.warmupSteps: expected an integer ≤ the total steps (10), found 11',
  )
  refused(
    { ...sgd, schedule: { ...cosine, minLr: 2 } },
    'OptimizerConfigError',
    'schedule.minLr: expected a number ≤ the peak lr (1), found 2',
  )
  refused({ ...sgd, steps: 1.5 }, 'TaskInputError', 'steps: expected an integer ≥ 0, found 1.5')
})

test("each optimizer option is held to the range its optimizer enforces, Nesterov to PyTorch's rule", () => {
  const adamw = (options: object): Settings => ({ ...sgd, optimizer: { kind: 'adamw', ...options } })
  const sgdWith = (options: object): Settings => ({ ...sgd, optimizer: { kind: 'sgd', ...options } })
  refused(
    sgdWith({ momentum: -0.1 }),
    'OptimizerConfigError',
    'optimizer.momentum: expected a finite number ≥ 0, found -0.1',
  )
  refused(
    sgdWith({ dampening: 1.5 }),
    'OptimizerConfigError',
    'optimizer.dampening: expected a finite number in [0, 1], found 1.5',
  )
  refused(
    sgdWith({ nesterov: true }),
    'OptimizerConfigError',
    'optimizer.nesterov: expected Nesterov only with a momentum > 0 and zero dampening, found true',
  )
  refused(
    sgdWith({ nesterov: true, momentum: 0.9, dampening: 0.1 }),
    'OptimizerConfigError',
    'optimizer.nesterov: expected Nesterov only with a momentum > 0 and zero dampening, found true',
  )
  refused(
    adamw({ betas: [0.9, 1] }),
    'OptimizerConfigError',
    'optimizer.betas[1]: expected a finite number in [0, 1), found 1',
  )
  refused(
    adamw({ eps: -1e-8 }),
    'OptimizerConfigError',
    'optimizer.eps: expected a finite number ≥ 0, found -1e-8',
  )
  refused(
    adamw({ threads: 0 }),
    'OptimizerConfigError',
    'optimizer.threads: expected an integer in [1, 1024], found 0',
  )
  checkFitSettings(sgdWith({ nesterov: true, momentum: 0.9 }))
  checkFitSettings(adamw({ betas: [0, 0.999], eps: 0, weightDecay: 0, threads: 1024 }))
})

test('a caller names the problem in its own words; fit checks before it touches the model', async () => {
  const keys: (readonly PropertyKey[])[] = []
  assert.throws(
    () =>
      checkFitSettings({ ...sgd, schedule: { ...cosine, minLr: 2 } }, (problem) => {
        keys.push(problem.keys)
        return new RangeError(`training.${problem.path}`)
      }),
    { name: 'RangeError', message: 'training.schedule.minLr' },
  )
  assert.deepEqual(keys, [['schedule', 'minLr']])
  const options = { ...sgd, schedule: { ...cosine, warmupSteps: 11 } }
  await assert.rejects(fit({ ...options, model: undefined, backend: undefined, batch: undefined } as never), {
    name: 'OptimizerConfigError',
  })
})

test('stepProgress shows every N steps and the last one, with the mean loss since the line before', () => {
  const shown: Progress[] = []
  const onStep = stepProgress(5, 2, (p) => shown.push(p))
  for (let step = 0; step < 5; step++) onStep({ step, loss: step, lr: step / 10, seconds: 0.5 })
  assert.deepEqual(shown, [
    { done: 2, total: 5, loss: 0.5, lr: 0.1, seconds: 1 },
    { done: 4, total: 5, loss: 2.5, lr: 0.3, seconds: 2 },
    { done: 5, total: 5, loss: 4, lr: 0.4, seconds: 2.5 },
  ])
})
