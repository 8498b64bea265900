/** Every reference kernel, one table built from the per-family tables (explicit, no side effects). */
import type { Kernel } from './kernel.ts'

export const KERNELS: Readonly<Record<string, Kernel>> = {}
