/** Einsum: Σ over the letters missing from the output of the product of the operands. */
import { EinsumEquationError, planEinsum } from '../ops/einsum.ts'
import type { Tensor } from '../tensor.ts'
import type { Kernel } from './kernel.ts'
import { fromF64, stridedIndex, stridesOf, toF64 } from './values.ts'

/** Per letter, the step in operand `x` (summed over repeats, so "ii" walks the diagonal; 0 where broadcast). */
function letterStrides(x: Tensor, letters: string[], order: string[]): number[] {
  const st = stridesOf(x.shape)
  return order.map((l) => letters.reduce((s, m, j) => s + (m === l && x.shape[j] !== 1 ? st[j] : 0), 0))
}

export const einsum: Kernel = (ctx) => {
  const xs = ctx.inputs.filter((t): t is Tensor => t !== undefined)
  let plan: ReturnType<typeof planEinsum>
  try {
    plan = planEinsum(
      ctx.attrs.string('equation'),
      xs.map((x) => [...x.shape]),
    )
  } catch (err) {
    if (err instanceof EinsumEquationError) ctx.fail(err.message)
    throw err
  }
  const summed = [...plan.sizes.keys()].filter((l) => !plan.output.includes(l))
  const outShape = plan.output.map((l) => plan.sizes.get(l) as number)
  const sumShape = summed.map((l) => plan.sizes.get(l) as number)
  const values = xs.map(toF64)
  const base = xs.map((x, i) => stridedIndex(outShape, letterStrides(x, plan.inputs[i], plan.output)))
  const delta = xs.map((x, i) => stridedIndex(sumShape, letterStrides(x, plan.inputs[i], summed)))
  const out = new Float64Array(base[0].length)
  for (let k = 0; k < out.length; k++) {
    let acc = 0
    for (let s = 0; s < delta[0].length; s++) {
      let p = 1
      for (let i = 0; i < xs.length; i++) p *= values[i][base[i][k] + delta[i][s]]
      acc += p
    }
    out[k] = acc
  }
  return [fromF64(xs[0].dtype, outShape, out)]
}
