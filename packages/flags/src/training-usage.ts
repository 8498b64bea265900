/** The usage lines of the training flags, with the defaults of the program that prints them. */
import type { BackendRegistry } from '@atoll/runtime'
import { type FlagTable, flagUsage, usageColumn } from './table.ts'
import { given, TRAINING_FLAGS, type TrainingDefaults, type TrainingFlag } from './training.ts'

/** The flags `trainingOptions` insists on when the program gives them no default. */
const REQUIRED: TrainingFlag[] = ['steps', 'optimizer', 'lr']

/** PyTorch's defaults, which the runtime's optimizers keep unless a program sets its own. */
const PYTORCH: Partial<Record<TrainingFlag, string>> = {
  momentum: '0',
  dampening: '0',
  betas: '0.9,0.999',
  eps: '1e-8',
  'weight-decay': '0 SGD, 0.01 AdamW',
}

/**
 * What `--device` offers, from the runtime's registry, the default first:
 * `cpu (the default) | auto | gpu | cuda | webgpu | reference`.
 */
export function deviceChoices(registry: Pick<BackendRegistry, 'choices'>, fallback: string): string {
  const others = registry.choices().filter((choice) => choice !== fallback)
  return [`${fallback} (the default)`, ...others].join(' | ')
}

/**
 * Usage lines for every training flag, each with the default `defaults` give it; `devices` is what
 * `--device` offers (`deviceChoices`); `notes` replace a default with words where it depends on other
 * flags (`warmup: '5% of the steps'`); `column` aligns them with a program's own flags.
 */
export function trainingUsage(
  defaults: TrainingDefaults,
  devices: string,
  notes: Partial<Record<TrainingFlag, string>> = {},
  column = usageColumn(TRAINING_FLAGS),
): string[] {
  const shown: Partial<Record<TrainingFlag, string>> = {
    ...PYTORCH,
    ...given(defaultTexts(defaults)),
    ...notes,
  }
  const remarks: Partial<Record<TrainingFlag, string>> = {}
  for (const flag of Object.keys(TRAINING_FLAGS) as TrainingFlag[]) {
    const value = shown[flag]
    if (value !== undefined) remarks[flag] = `default ${value}`
    else if (REQUIRED.includes(flag)) remarks[flag] = 'required'
  }
  const table = { ...TRAINING_FLAGS, device: { ...TRAINING_FLAGS.device, what: devices } }
  return flagUsage(table, remarks, column)
}

/**
 * The options of a program that takes flags of its own and the training flags: two sections, aligned
 * together, as the examples print them.
 */
export function trainingProgramUsage(
  own: FlagTable,
  training: { defaults: TrainingDefaults; devices: string; notes?: Partial<Record<TrainingFlag, string>> },
  ownRemarks: Record<string, string> = {},
): string[] {
  const column = usageColumn(own, TRAINING_FLAGS)
  return [
    'Options:',
    ...flagUsage(own, ownRemarks, column),
    '',
    'Training (the flags of atoll fit):',
    ...trainingUsage(training.defaults, training.devices, training.notes, column),
  ]
}

function defaultTexts(d: TrainingDefaults): Partial<Record<TrainingFlag, string>> {
  const text = (v: unknown) => (v === undefined ? undefined : String(v))
  const sgd = d.sgd ?? {}
  const adamw = d.adamw ?? {}
  const decay = [sgd.weightDecay, adamw.weightDecay]
  return {
    steps: text(d.steps),
    'batch-size': text(d.batchSize),
    optimizer: d.optimizer,
    lr: text(d.lr),
    momentum: text(sgd.momentum),
    dampening: text(sgd.dampening),
    betas: text(adamw.betas),
    eps: text(adamw.eps),
    'weight-decay':
      decay[0] === undefined && decay[1] === undefined
        ? undefined
        : `${decay[0] ?? 0} SGD, ${decay[1] ?? 0.01} AdamW`,
    schedule: d.schedule ?? 'constant',
    warmup: text(d.warmup ?? 0),
    'min-lr': text(d.minLr ?? 0),
    clip: text(d.clip ?? 0),
    seed: '0',
  }
}
