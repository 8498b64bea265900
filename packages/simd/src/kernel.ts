/**
 * Kernels come to life here: assembled and compiled on first use, each with its own memory, or
 * null where the engine has no WebAssembly SIMD (every caller keeps a plain-JS loop for that).
 */
import { assembleKernel, type KernelSource, MEMORY_IMPORT, op } from './assembler.ts'

const PAGE_BYTES = 65536

/** An instantiated kernel: its exported function and the memory it works in. */
export interface Kernel<F> {
  run: F
  memory: WebAssembly.Memory
}

/** The smallest function that uses a v128 instruction: it validates only where SIMD is there. */
const SIMD_PROBE = assembleKernel({
  name: 'probe',
  params: [],
  locals: ['v128'],
  body: [...op.localGet(0), ...op.f32x4Sqrt, ...op.localSet(0)],
})

/** Whether this engine runs WebAssembly SIMD (every current browser and Node ≥ 16 do). */
export function simdSupported(): boolean {
  return typeof WebAssembly === 'object' && WebAssembly.validate(SIMD_PROBE)
}

/**
 * A getter of the kernel `source` with a memory of `memoryBytes` (rounded up to 64 KiB pages), built
 * on its first call and the same one after; null where SIMD is missing. A module that fails to
 * build where SIMD is there is a bug, and throws.
 */
export function lazyKernel<F>(source: KernelSource, memoryBytes = PAGE_BYTES): () => Kernel<F> | null {
  let kernel: Kernel<F> | null | undefined
  return () => {
    if (kernel === undefined) kernel = simdSupported() ? instantiate<F>(source, memoryBytes) : null
    return kernel
  }
}

function instantiate<F>(source: KernelSource, memoryBytes: number): Kernel<F> {
  const memory = new WebAssembly.Memory({ initial: Math.ceil(memoryBytes / PAGE_BYTES) })
  const imports = { [MEMORY_IMPORT.module]: { [MEMORY_IMPORT.name]: memory } }
  // Compiled synchronously: browsers allow that on the main thread below 4 KiB, and a kernel is
  // a few hundred bytes.
  const module = new WebAssembly.Module(assembleKernel(source))
  return { run: new WebAssembly.Instance(module, imports).exports[source.name] as F, memory }
}

/**
 * Grows `memory` to at least `bytes`; false where the engine refuses (the caller then takes its JS
 * path). Growing detaches the old buffer: take views after this call.
 */
export function reserveMemory(memory: WebAssembly.Memory, bytes: number): boolean {
  const missing = bytes - memory.buffer.byteLength
  if (missing <= 0) return true
  try {
    memory.grow(Math.ceil(missing / PAGE_BYTES))
    return true
  } catch {
    return false
  }
}
