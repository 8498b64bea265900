/**
 * Whether the device a GPU backend needs is on this machine, decided from what the kernel and the
 * Vulkan loader expose, without starting the backend. Two questions, kept apart: is the hardware
 * here (a device node), and is the software its backend loads here (a GPU's Vulkan driver and the
 * loader, or onnxruntime's CUDA provider). Only absent hardware is a reason for a GPU test to skip:
 * where the GPU is, a missing driver or a backend that fails to start is a defect to report, not
 * something to skip over (Linux only; elsewhere init decides).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { basename, join } from 'node:path'
import { findCudaLibraries, missingMessage } from './cuda-libraries.ts'
import { onnxruntimeNodeFolder } from './cuda-provider.ts'

/** The device a backend needs: what was found for it, and the first piece that is missing. */
export type DevicePresence =
  /** the hardware and everything its backend loads */
  | { status: 'ready'; found: string[] }
  /** no such hardware here: nothing to start, nothing for a GPU test to prove */
  | { status: 'absent'; missing: string }
  /** the hardware, without the driver, loader or library its backend loads */
  | { status: 'incomplete'; found: string[]; missing: string }

/** Where to look: tests point `root` at a directory laid out like `/` and pass their own `env`. */
export interface PresenceProbe {
  root?: string
  env?: NodeJS.ProcessEnv
  platform?: NodeJS.Platform
}

/**
 * Character devices of a GPU: NVIDIA's driver, DRM render nodes (AMD, Intel, NVIDIA with nvidia-drm;
 * software Vulkan needs none, and is no GPU), and WSL2's paravirtual GPU.
 */
const GPU_NODES: ReadonlyArray<{ dir: string; name: RegExp }> = [
  { dir: 'dev', name: /^nvidia\d+$/ },
  { dir: 'dev/dri', name: /^renderD\d+$/ },
  { dir: 'dev', name: /^dxg$/ },
]
const NVIDIA_NODE = GPU_NODES[0]
/**
 * Vulkan drivers that render on the CPU (Mesa's lavapipe `lvp_icd.<arch>.json`, SwiftShader's
 * `vk_swiftshader_icd.json`): Dawn would run on them, so counting them would let a "GPU" test pass
 * without a GPU.
 */
const SOFTWARE_VULKAN = /^lvp_icd|swiftshader/
/** Dawn (onnxruntime's WebGPU) loads the Vulkan loader by this name. */
const VULKAN_LOADER = 'libvulkan.so.1'
const LOADER_DIRS = [
  'lib',
  'lib64',
  'usr/lib',
  'usr/lib64',
  `usr/lib/${process.arch === 'arm64' ? 'aarch64' : 'x86_64'}-linux-gnu`,
]
const CUDA_PROVIDER = 'libonnxruntime_providers_cuda.so'

/** WebGPU (Dawn over Vulkan) has a GPU adapter where a GPU node, a GPU's Vulkan driver manifest and the loader exist. */
export function webgpuPresence(probe: PresenceProbe = {}): DevicePresence {
  const { root = '/', env = process.env, platform = process.platform } = probe
  if (platform !== 'linux') return { status: 'ready', found: [`not checked on ${platform}`] }
  const nodes = GPU_NODES.flatMap((kind) => deviceNodes(root, kind))
  if (nodes.length === 0)
    return { status: 'absent', missing: 'no GPU device node (/dev/nvidia<N>, /dev/dri/renderD<N>, /dev/dxg)' }
  const manifests = vulkanDrivers(root, env)
  const drivers = manifests.filter((m) => !SOFTWARE_VULKAN.test(basename(m)))
  if (drivers.length === 0) {
    const software = manifests.length > 0 ? ` (only software renderers: ${manifests.join(', ')})` : ''
    return {
      status: 'incomplete',
      found: nodes,
      missing: `${nodes.join(', ')} but no GPU Vulkan driver manifest (ICD)${software}: install the GPU's Vulkan driver or set VK_DRIVER_FILES to its *_icd.json`,
    }
  }
  const loader = vulkanLoader(root, env)
  if (loader === undefined) {
    return {
      status: 'incomplete',
      found: [...nodes, ...drivers],
      missing: `${nodes.join(', ')} but no Vulkan loader (${VULKAN_LOADER}): install libvulkan1`,
    }
  }
  return { status: 'ready', found: [...nodes, ...drivers, loader] }
}

/**
 * CUDA needs an NVIDIA GPU, onnxruntime's CUDA provider (`atoll setup --gpu` installs it from the npm
 * registry) and the CUDA 13 libraries the provider links against (see cuda-libraries.ts).
 */
export function cudaPresence(probe: PresenceProbe = {}): DevicePresence {
  const { root = '/', platform = process.platform } = probe
  if (platform !== 'linux') return { status: 'ready', found: [`not checked on ${platform}`] }
  const nodes = deviceNodes(root, NVIDIA_NODE)
  if (nodes.length === 0) return { status: 'absent', missing: 'no NVIDIA GPU (/dev/nvidia<N>)' }
  const library = cudaProviderLibrary()
  if (!existsSync(library)) {
    return {
      status: 'incomplete',
      found: nodes,
      missing: `${nodes.join(', ')} but ${library} is missing: run \`./atoll setup --gpu\` (it installs onnxruntime's CUDA provider from the npm registry)`,
    }
  }
  const libraries = findCudaLibraries({ env: probe.env })
  if (libraries.missing.length > 0)
    return { status: 'incomplete', found: [...nodes, library], missing: missingMessage(libraries) }
  return { status: 'ready', found: [...nodes, library, ...libraries.found.values()] }
}

/** Where onnxruntime-node looks for its CUDA provider: beside its core library. */
export function cudaProviderLibrary(): string {
  return join(onnxruntimeNodeFolder(), CUDA_PROVIDER)
}

function deviceNodes(root: string, { dir, name }: { dir: string; name: RegExp }): string[] {
  return listDir(join(root, dir))
    .filter((n) => name.test(n))
    .map((n) => `/${dir}/${n}`)
}

/**
 * Driver manifests the Vulkan loader would read: VK_DRIVER_FILES (or the older VK_ICD_FILENAMES)
 * replaces its search, VK_ADD_DRIVER_FILES adds to it; otherwise the XDG and system icd.d folders.
 */
function vulkanDrivers(root: string, env: NodeJS.ProcessEnv): string[] {
  const listed = (value: string | undefined) => (value ?? '').split(':').filter(Boolean)
  const explicit = listed(env.VK_DRIVER_FILES ?? env.VK_ICD_FILENAMES)
  const home = env.HOME ?? '/root'
  const search =
    explicit.length > 0
      ? explicit
      : [
          env.XDG_CONFIG_HOME ?? join(home, '.config'),
          ...listed(env.XDG_CONFIG_DIRS ?? '/etc/xdg'),
          '/usr/local/etc',
          '/etc',
          env.XDG_DATA_HOME ?? join(home, '.local/share'),
          ...listed(env.XDG_DATA_DIRS ?? '/usr/local/share:/usr/share'),
        ].map((dir) => join(dir, 'vulkan/icd.d'))
  return [...listed(env.VK_ADD_DRIVER_FILES), ...search].flatMap((path) => manifests(root, path))
}

/** A listed manifest file, if it exists, or the manifests in a listed folder. */
function manifests(root: string, path: string): string[] {
  if (path.endsWith('.json')) return existsSync(join(root, path)) ? [path] : []
  return listDir(join(root, path))
    .filter((n) => n.endsWith('.json'))
    .map((n) => join(path, n))
}

/** The loader as the dynamic linker finds it: LD_LIBRARY_PATH, the ld.so cache, the default folders. */
function vulkanLoader(root: string, env: NodeJS.ProcessEnv): string | undefined {
  const dirs = [...(env.LD_LIBRARY_PATH ?? '').split(':').filter(Boolean), ...LOADER_DIRS.map((d) => `/${d}`)]
  const found = dirs.find((dir) => existsSync(join(root, dir, VULKAN_LOADER)))
  if (found !== undefined) return join(found, VULKAN_LOADER)
  const cache = join(root, 'etc/ld.so.cache')
  // the cache is binary, but holds each library's name as plain text
  if (existsSync(cache) && readFileSync(cache).includes(VULKAN_LOADER))
    return `${VULKAN_LOADER} (ld.so.cache)`
  return undefined
}

function listDir(path: string): string[] {
  try {
    return readdirSync(path)
  } catch {
    return [] // absent or unreadable: nothing of this kind here
  }
}
