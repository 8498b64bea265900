/** ResNet (He et al. 2016) with torchvision's layout and module names (v1.5: stride on the 3×3). */
import { batchNorm2d, conv2d, globalAvgPool, maxPool2d } from '../builder/conv.ts'
import { flatten, linear, relu } from '../builder/layers.ts'
import { crossEntropyLoss, TARGETS_NAME } from '../builder/loss.ts'
import { ModelBuilder, type Value } from '../builder/model.ts'
import type { ZooModel, ZooOptions } from './common.ts'

export const RESNET_LAYOUTS = {
  18: { block: 'basic', blocks: [2, 2, 2, 2] },
  34: { block: 'basic', blocks: [3, 4, 6, 3] },
  50: { block: 'bottleneck', blocks: [3, 4, 6, 3] },
  101: { block: 'bottleneck', blocks: [3, 4, 23, 3] },
} as const

export interface ResNetOptions extends ZooOptions {
  depth?: keyof typeof RESNET_LAYOUTS
  /** scales every channel count (0.25 gives a quick-to-train ResNet); default 1 */
  width?: number
  classes?: number
  /** input height and width; default 224 */
  imageSize?: number
  /** BatchNorm in training mode (batch statistics); default true */
  training?: boolean
}

export function resnet(options: ResNetOptions = {}): ZooModel {
  const layout = RESNET_LAYOUTS[options.depth ?? 18]
  const width = options.width ?? 1
  const ch = (c: number) => Math.max(1, Math.round(c * width))
  const batch = options.batch ?? 'batch'
  const size = options.imageSize ?? 224
  const bn = { training: options.training ?? true }
  const m = new ModelBuilder({
    name: `resnet${options.depth ?? 18}`,
    seed: options.seed,
    shapesOnly: options.shapesOnly,
  })
  let x: Value = m.input('x', [batch, 3, size, size])
  x = m.scope('conv1', () => conv2d(m, x, ch(64), 7, { stride: 2, padding: 3, bias: false }))
  x = relu(
    m,
    m.scope('bn1', () => batchNorm2d(m, x, bn)),
  )
  x = maxPool2d(m, x, 3, { stride: 2, padding: 1 })
  const expansion = layout.block === 'basic' ? 1 : 4
  let inCh = ch(64)
  layout.blocks.forEach((count, stage) => {
    const planes = ch(64 * 2 ** stage)
    for (let i = 0; i < count; i++) {
      const stride = i === 0 && stage > 0 ? 2 : 1
      const cin = inCh
      x = m.scope(`layer${stage + 1}`, () =>
        m.scope(i, () => residualBlock(m, x, cin, planes, stride, layout.block === 'basic', bn)),
      )
      inCh = planes * expansion
    }
  })
  x = flatten(m, globalAvgPool(m, x))
  const logits = m.output(m.scope('fc', () => linear(m, x, options.classes ?? 1000)))
  const inputs = ['x']
  let loss: string | undefined
  if (options.loss !== false) {
    const targets = m.input(TARGETS_NAME, [batch], 'int64')
    loss = crossEntropyLoss(m, logits, targets).name
    inputs.push(TARGETS_NAME)
  }
  return { graph: m.build(), logits: logits.name, loss, inputs }
}

function residualBlock(
  m: ModelBuilder,
  x: Value,
  cin: number,
  planes: number,
  stride: number,
  basic: boolean,
  bn: { training: boolean },
): Value {
  const out = basic ? planes : planes * 4
  const convBn = (i: number, v: Value, c: number, k: number, s: number) => {
    const y = m.scope(`conv${i}`, () => conv2d(m, v, c, k, { stride: s, padding: (k - 1) / 2, bias: false }))
    return m.scope(`bn${i}`, () => batchNorm2d(m, y, bn))
  }
  let y: Value
  if (basic) {
    y = convBn(2, relu(m, convBn(1, x, planes, 3, stride)), planes, 3, 1)
  } else {
    const a = relu(m, convBn(1, x, planes, 1, 1))
    const b = relu(m, convBn(2, a, planes, 3, stride))
    y = convBn(3, b, out, 1, 1)
  }
  let shortcut = x
  if (stride !== 1 || cin !== out) {
    shortcut = m.scope('downsample', () => {
      const c = m.scope(0, () => conv2d(m, x, out, 1, { stride, bias: false }))
      return m.scope(1, () => batchNorm2d(m, c, bn))
    })
  }
  return relu(m, m.op('Add', [y, shortcut], y.shape))
}
