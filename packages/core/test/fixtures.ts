/** Loading the PyTorch reference fixtures made by fixtures/make_fixtures.py (see its docstring). */
import { readFileSync } from 'node:fs'
import { readSafetensors, type Tensor } from '../src/index.ts'

export const FIXTURES = new URL('./fixtures/', import.meta.url)

interface Variant {
  ok: boolean
  exporter: string
  opset: number
  outputs?: string[]
  /** PyTorch parameters no initializer holds (their gradients cannot be compared) */
  unmapped_params?: string[]
  error?: string
}

export interface Manifest {
  torch: string
  models: Record<
    string,
    { train: boolean; loss: number; inputs: string[]; variants: Record<string, Variant> }
  >
}

/** The model families of issue 16 (fixtures/families/make_families.py): the same files, their own manifest. */
export const FAMILY_FIXTURES = new URL('./fixtures/families/', import.meta.url)

export function readManifest(dir: URL = FIXTURES): Manifest {
  return JSON.parse(readFileSync(new URL('manifest.json', dir), 'utf8'))
}

export const manifest: Manifest = readManifest()

export interface Fixture {
  tag: string
  model: string
  exporter: string
  opset: number
  train: boolean
  onnx: Uint8Array
  batch: Map<string, Tensor>
  /** PyTorch's float64 loss */
  loss: number
  logits: Tensor
  /** gradient per ONNX initializer name */
  grads: Map<string, Tensor>
  /** groups of initializer names holding one PyTorch parameter */
  tied: string[][]
  /** PyTorch parameters no initializer holds */
  unmapped: string[]
}

/** Every variant the fixture script exported successfully (from `dir`: the first fixtures by default). */
export function loadFixtures(dir: URL = FIXTURES): Fixture[] {
  const out: Fixture[] = []
  for (const [model, m] of Object.entries(readManifest(dir).models)) {
    // a model the script could not build (its library missing there) has no batch and no variant
    if (!Object.values(m.variants).some((v) => v.ok)) continue
    const batch = readSafetensors(readFileSync(new URL(`${model}.batch.safetensors`, dir))).tensors
    for (const [tag, v] of Object.entries(m.variants)) {
      if (!v.ok) continue
      const ref = readSafetensors(readFileSync(new URL(`${tag}.ref.safetensors`, dir)))
      const grads = new Map([...ref.tensors].filter(([k]) => !k.startsWith('__')))
      out.push({
        tag,
        model,
        exporter: v.exporter,
        opset: v.opset,
        train: m.train,
        onnx: readFileSync(new URL(`${tag}.onnx`, dir)),
        batch,
        loss: Number((ref.tensors.get('__loss__')!.data as Float64Array)[0]),
        logits: ref.tensors.get('__logits__')!,
        grads,
        tied: JSON.parse(ref.metadata.tied ?? '[]'),
        unmapped: v.unmapped_params ?? [],
      })
    }
  }
  return out
}
