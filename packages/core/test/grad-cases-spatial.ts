/**
 * Gradient cases of issue 16's spatial rules: Instance- and GroupNormalization, ConvTranspose and
 * Resize, one per attribute combination PyTorch exports; spread into CASES by grad-cases.ts.
 */
import { type Attribute, attr } from '../src/graph/types.ts'
import { float32, type Tensor } from '../src/tensor.ts'
import { type Case, helper, ints, one } from './grad-case-kit.ts'
import { floatTensor } from './gradcheck.ts'
import { node } from './ops-helpers.ts'

/** Resize of a parameter x by constant scales or sizes, roi omitted (as both exporters write it). */
const resize =
  (shape: number[], by: { scales: number[] } | { sizes: number[] }, attrs: Record<string, Attribute>): Case =>
  (p) => {
    const scaled = 'scales' in by
    const constants: Record<string, Tensor> = scaled
      ? { scales: float32([by.scales.length], by.scales) }
      : { sizes: ints(by.sizes) }
    return {
      params: { x: p(shape) },
      constants,
      nodes: [node('Resize', scaled ? ['x', '', 'scales'] : ['x', '', '', 'sizes'], ['y'], attrs)],
      output: 'y',
    }
  }

const nearest = (transform: string, rounding: string) => ({
  mode: attr.string('nearest'),
  coordinate_transformation_mode: attr.string(transform),
  nearest_mode: attr.string(rounding),
})
const linear = (transform: string) => ({
  mode: attr.string('linear'),
  coordinate_transformation_mode: attr.string(transform),
})

const RESIZE_CASES: Record<string, Case> = {
  'Resize (nearest ×2, asymmetric, floor: Upsample)': resize(
    [1, 2, 3, 3],
    { scales: [1, 1, 2, 2] },
    nearest('asymmetric', 'floor'),
  ),
  'Resize (nearest ×3 and ×1.5, asymmetric, floor)': resize(
    [2, 1, 2, 2],
    { scales: [1, 1, 3, 1.5] },
    nearest('asymmetric', 'floor'),
  ),
  'Resize (nearest, asymmetric, floor, sizes 2→3 and 3→5)': resize(
    [1, 1, 2, 3],
    { sizes: [1, 1, 3, 5] },
    nearest('asymmetric', 'floor'),
  ),
  'Resize (nearest 1-D ×1.5, half_pixel, round_prefer_floor)': resize(
    [2, 2, 4],
    { scales: [1, 1, 1.5] },
    nearest('half_pixel', 'round_prefer_floor'),
  ),
  'Resize (nearest ×0.5, asymmetric, floor)': resize(
    [1, 1, 4, 4],
    { scales: [1, 1, 0.5, 0.5] },
    nearest('asymmetric', 'floor'),
  ),
  'Resize (nearest, opset 18 axes: channels 2→3)': resize(
    [1, 2, 3, 2],
    { sizes: [3] },
    {
      ...nearest('asymmetric', 'floor'),
      axes: attr.ints([1]),
    },
  ),
  'Resize (linear ×2, half_pixel)': resize([1, 2, 3, 3], { scales: [1, 1, 2, 2] }, linear('half_pixel')),
  'Resize (linear, pytorch_half_pixel, sizes 3→1 and 4→6)': resize(
    [1, 1, 3, 4],
    { sizes: [1, 1, 1, 6] },
    linear('pytorch_half_pixel'),
  ),
  'Resize (linear 1-D, align_corners, sizes 3→7)': resize(
    [2, 1, 3],
    { sizes: [2, 1, 7] },
    linear('align_corners'),
  ),
  'Resize (linear, asymmetric, scales 2 and 1.5)': resize(
    [1, 1, 2, 4],
    { scales: [1, 1, 2, 1.5] },
    linear('asymmetric'),
  ),
  'Resize (linear, sizes from Shape → Slice → Concat: TorchScript size=)': (p) => ({
    params: { x: p([1, 2, 2, 3]) },
    constants: { first: ints([0]), second: ints([2]), spatial: ints([3, 5]) },
    nodes: [
      helper(node('Shape', ['x'], ['shape'])),
      helper(node('Slice', ['shape', 'first', 'second'], ['batchAndChannels'])),
      helper(node('Concat', ['batchAndChannels', 'spatial'], ['sizes'], { axis: attr.int(0) })),
      node('Resize', ['x', '', '', 'sizes'], ['y'], linear('pytorch_half_pixel')),
    ],
    output: 'y',
  }),
  'Resize (cubic ×2, half_pixel)': resize(
    [1, 1, 3, 3],
    { scales: [1, 1, 2, 2] },
    {
      mode: attr.string('cubic'),
      coordinate_transformation_mode: attr.string('half_pixel'),
    },
  ),
}

const CONV_TRANSPOSE_CASES: Record<string, Case> = {
  ConvTranspose: one('ConvTranspose', { params: { x: [1, 2, 3, 3], w: [2, 3, 3, 3], b: [3] } }),
  'ConvTranspose (stride 2, asymmetric pads, output_padding, dilation, groups)': one('ConvTranspose', {
    params: { x: [2, 4, 3, 2], w: [4, 1, 2, 3] },
    attrs: {
      strides: attr.ints([2, 2]),
      pads: attr.ints([1, 0, 0, 2]),
      output_padding: attr.ints([1, 0]),
      dilations: attr.ints([1, 2]),
      group: attr.int(2),
    },
  }),
  'ConvTranspose (1-D, stride 2, SAME_UPPER)': one('ConvTranspose', {
    params: { x: [2, 2, 4], w: [2, 1, 3], b: [1] },
    attrs: { auto_pad: attr.string('SAME_UPPER'), strides: attr.ints([2]) },
  }),
  'ConvTranspose (1-D, stride 3 past the kernel, SAME_LOWER)': one('ConvTranspose', {
    params: { x: [1, 1, 3], w: [1, 2, 2] },
    attrs: { auto_pad: attr.string('SAME_LOWER'), strides: attr.ints([3]) },
  }),
  'ConvTranspose (output_shape)': one('ConvTranspose', {
    params: { x: [1, 1, 3, 3], w: [1, 2, 3, 3] },
    attrs: { strides: attr.ints([2, 2]), output_shape: attr.ints([6, 7]) },
  }),
  'ConvTranspose (1-D, output_shape one past the full output)': one('ConvTranspose', {
    params: { x: [2, 1, 3], w: [1, 2, 2], b: [2] },
    attrs: { strides: attr.ints([2]), output_shape: attr.ints([7]) },
  }),
  'ConvTranspose (3-D, depthwise, stride 2)': one('ConvTranspose', {
    params: { x: [1, 2, 2, 2, 2], w: [2, 1, 2, 2, 2], b: [2] },
    attrs: { group: attr.int(2), strides: attr.ints([2, 1, 2]), pads: attr.ints([0, 1, 1, 1, 0, 0]) },
  }),
}

const NORM_CASES: Record<string, Case> = {
  InstanceNormalization: one('InstanceNormalization', {
    params: { x: [2, 3, 2, 2], scale: [3], bias: [3] },
  }),
  'InstanceNormalization (1-D, epsilon)': one('InstanceNormalization', {
    params: { x: [2, 2, 5], scale: [2], bias: [2] },
    attrs: { epsilon: attr.float(1e-3) },
  }),
  'InstanceNormalization (GroupNorm as TorchScript exports it)': (p, dtype) => ({
    params: { x: p([2, 4, 3]), weight: p([4, 1]), bias: p([4, 1]) },
    constants: {
      grouped: ints([2, 2, -1]),
      ones: floatTensor(dtype, [2], [1, 1]),
      zeros: floatTensor(dtype, [2], [0, 0]),
      shape: ints([2, 4, 3]),
    },
    nodes: [
      helper(node('Reshape', ['x', 'grouped'], ['xg'])),
      node('InstanceNormalization', ['xg', 'ones', 'zeros'], ['normed']),
      helper(node('Reshape', ['normed', 'shape'], ['back'])),
      helper(node('Mul', ['back', 'weight'], ['scaled'])),
      helper(node('Add', ['scaled', 'bias'], ['y'])),
    ],
    output: 'y',
  }),
  'GroupNormalization (opset 18: scale per group)': one('GroupNormalization', {
    params: { x: [2, 4, 2, 2], scale: [2], bias: [2] },
    attrs: { num_groups: attr.int(2) },
  }),
  'GroupNormalization (opset 21: scale per channel)': one('GroupNormalization', {
    params: { x: [2, 6, 3], scale: [6], bias: [6] },
    attrs: { num_groups: attr.int(3) },
    opset: 21,
  }),
  'GroupNormalization (opset 21, one group)': one('GroupNormalization', {
    params: { x: [2, 2, 2, 2], scale: [2], bias: [2] },
    attrs: { num_groups: attr.int(1) },
    opset: 21,
  }),
}

export const SPATIAL_CASES: Record<string, Case> = {
  ...NORM_CASES,
  ...CONV_TRANSPOSE_CASES,
  ...RESIZE_CASES,
}
