/** The usage lines of the training flags, with the defaults of the program that prints them. */
import { given, type TrainingDefaults, type TrainingFlag } from './training.ts'

/** The backends `--device` chooses from (the runtime's registry), for every usage that takes it. */
export const DEVICE_CHOICES = 'cpu (the default) | webgpu | cuda | gpu | auto | reference'

/** Each flag as usage shows it, and what it does. */
const LINES: [TrainingFlag, string, string][] = [
  ['steps', '--steps N', 'optimizer steps'],
  ['batch-size', '--batch-size B', 'samples per step'],
  ['optimizer', '--optimizer O', 'sgd | adamw'],
  ['lr', '--lr X', 'peak learning rate'],
  ['momentum', '--momentum M', 'SGD momentum'],
  ['dampening', '--dampening D', 'SGD momentum dampening'],
  ['nesterov', '--nesterov', 'Nesterov momentum (SGD)'],
  ['betas', '--betas B1,B2', 'AdamW moment decay rates'],
  ['eps', '--eps E', "AdamW's term added to the denominator"],
  ['amsgrad', '--amsgrad', 'the AMSGrad variant of AdamW'],
  ['optimizer-threads', '--optimizer-threads N', 'run the AdamW update on N threads (bit-identical to 1)'],
  ['weight-decay', '--weight-decay W', 'L2 (SGD) or decoupled (AdamW) weight decay'],
  ['schedule', '--schedule KIND', 'constant | cosine: a linear warm-up, then a cosine down to --min-lr'],
  ['warmup', '--warmup N', 'warm-up steps of the cosine schedule'],
  ['min-lr', '--min-lr X', 'floor of the cosine schedule'],
  ['clip', '--clip NORM', 'clip the global gradient 2-norm at NORM; 0 does not clip'],
  ['micro-batches', '--micro-batches M', 'split each batch into M micro-batches (gradients accumulate)'],
  ['seed', '--seed N', 'initialisation and data order'],
  ['device', '--device D', DEVICE_CHOICES],
  ['threads', '--threads N', 'onnxruntime intra-op threads'],
  ['log', '--log FILE', 'one JSON line per step, { "step": i, "loss": value }: the loss before its update'],
  ['save', '--save FILE', 'the final weights (and running statistics) as safetensors'],
]

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
 * Usage lines for every training flag, each with the default `defaults` give it; `notes` replace
 * a default with words where it depends on other flags (`warmup: '5% of the steps'`).
 */
export function trainingUsage(
  defaults: TrainingDefaults,
  notes: Partial<Record<TrainingFlag, string>> = {},
): string[] {
  const shown = { ...PYTORCH, ...given(defaultTexts(defaults)), ...notes }
  const width = Math.max(...LINES.map(([, left]) => left.length)) + 2
  return LINES.map(([flag, left, what]) => {
    const value = shown[flag]
    const note = value !== undefined ? ` (default ${value})` : REQUIRED.includes(flag) ? ' (required)' : ''
    return `  ${left.padEnd(width)}${what}${note}`
  })
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
