/**
 * Whether a GPU backend's device is here, read from a directory laid out like `/`: the hardware (a
 * device node) decides whether a GPU test may skip; the software its backend loads (a GPU's Vulkan
 * driver and the loader, onnxruntime's CUDA provider) only decides whether it can start, and its
 * absence beside the hardware fails the test, naming what is missing.
 */
import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { mkdir, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { describe, it } from 'node:test'
import {
  type Backend,
  BackendRegistry,
  cudaPresence,
  cudaProviderLibrary,
  type DevicePresence,
  webgpuPresence,
} from '../src/index.ts'
import { deviceUnderTest } from './device.ts'
import { tempDir } from './temp-dir.ts'

const env = { HOME: '/root' }
const NVIDIA_ICD = 'usr/share/vulkan/icd.d/nvidia_icd.json'
const LOADER = 'usr/lib/libvulkan.so.1'

/** A fresh directory laid out like /, holding `files` (empty), probed as Linux with `extraEnv`. */
async function machine(files: string[], extraEnv: Record<string, string> = {}) {
  const root = await tempDir('presence')
  for (const file of files) {
    await mkdir(join(root, dirname(file)), { recursive: true })
    await writeFile(join(root, file), '')
  }
  return { root, env: { ...env, ...extraEnv }, platform: 'linux' as const }
}

function missing(presence: DevicePresence, status: 'absent' | 'incomplete'): string {
  assert.equal(presence.status, status, `expected ${status}, found ${JSON.stringify(presence)}`)
  return (presence as { missing: string }).missing
}

describe('webgpu presence', () => {
  it('is absent without a GPU device node: control and card nodes are no GPU', async () => {
    const probe = await machine(['dev/nvidiactl', 'dev/dri/card0', NVIDIA_ICD, LOADER])
    assert.match(missing(webgpuPresence(probe), 'absent'), /^no GPU device node/)
  })

  it('is incomplete with a GPU node but no Vulkan driver, then no loader', async () => {
    const bare = await machine(['dev/nvidia0'])
    assert.match(
      missing(webgpuPresence(bare), 'incomplete'),
      /^\/dev\/nvidia0 but no GPU Vulkan driver manifest \(ICD\): .*VK_DRIVER_FILES/,
    )
    const render = await machine(['dev/dri/renderD128'])
    assert.match(missing(webgpuPresence(render), 'incomplete'), /^\/dev\/dri\/renderD128 but no GPU Vulkan/)
    const noLoader = await machine(['dev/nvidia0', NVIDIA_ICD])
    assert.match(
      missing(webgpuPresence(noLoader), 'incomplete'),
      /^\/dev\/nvidia0 but no Vulkan loader \(libvulkan\.so\.1\): install libvulkan1$/,
    )
  })

  it('is ready with a GPU node, a GPU driver manifest and the loader', async () => {
    const probe = await machine(['dev/nvidia0', NVIDIA_ICD, LOADER])
    assert.deepEqual(webgpuPresence(probe), {
      status: 'ready',
      found: ['/dev/nvidia0', `/${NVIDIA_ICD}`, `/${LOADER}`],
    })
  })

  it('does not count a software Vulkan driver (lavapipe, SwiftShader) as a GPU driver', async () => {
    const software = [
      'usr/share/vulkan/icd.d/lvp_icd.x86_64.json',
      'etc/vulkan/icd.d/vk_swiftshader_icd.json',
    ]
    const probe = await machine(['dev/nvidia0', LOADER, ...software])
    assert.match(
      missing(webgpuPresence(probe), 'incomplete'),
      /no GPU Vulkan driver manifest \(ICD\) \(only software renderers: .*vk_swiftshader_icd\.json, .*lvp_icd\.x86_64\.json\)/,
    )
    const pointed = { ...probe, env: { ...env, VK_DRIVER_FILES: `/${software[0]}` } }
    assert.equal(webgpuPresence(pointed).status, 'incomplete')
    await writeFile(join(probe.root, NVIDIA_ICD), '')
    assert.deepEqual(webgpuPresence(probe), {
      status: 'ready',
      found: ['/dev/nvidia0', `/${NVIDIA_ICD}`, `/${LOADER}`],
    })
  })

  it('reads VK_DRIVER_FILES (or VK_ICD_FILENAMES) instead of the search folders', async () => {
    const probe = await machine(['dev/nvidia0', 'opt/nvidia/nvidia_icd.json', LOADER])
    assert.equal(webgpuPresence(probe).status, 'incomplete')
    for (const name of ['VK_DRIVER_FILES', 'VK_ICD_FILENAMES']) {
      const pointed = { ...probe, env: { ...env, [name]: '/opt/nvidia/nvidia_icd.json' } }
      assert.equal(webgpuPresence(pointed).status, 'ready', name)
    }
    await mkdir(join(probe.root, dirname(NVIDIA_ICD)), { recursive: true })
    await writeFile(join(probe.root, NVIDIA_ICD), '')
    const elsewhere = { ...probe, env: { ...env, VK_DRIVER_FILES: '/opt/none.json' } }
    assert.match(missing(webgpuPresence(elsewhere), 'incomplete'), /no GPU Vulkan driver manifest/)
  })

  it('leaves the decision to init where it cannot look (not Linux)', () => {
    assert.equal(webgpuPresence({ root: '/nonexistent', platform: 'darwin' }).status, 'ready')
    assert.equal(cudaPresence({ root: '/nonexistent', platform: 'win32' }).status, 'ready')
  })
})

it('cuda is absent without an NVIDIA node, incomplete without the CUDA provider or its CUDA libraries', async () => {
  const amd = await machine(['dev/dri/renderD128'])
  assert.match(missing(cudaPresence(amd), 'absent'), /^no NVIDIA GPU/)
  const nvidia = await machine(['dev/nvidia0'])
  const library = cudaProviderLibrary()
  const presence = cudaPresence(nvidia)
  if (!existsSync(library))
    assert.match(
      missing(presence, 'incomplete'),
      /^\/dev\/nvidia0 but .*libonnxruntime_providers_cuda\.so is missing: run `\.\/atoll setup --gpu`/,
    )
  else if (presence.status === 'ready')
    assert.deepEqual(presence.found.slice(0, 2), ['/dev/nvidia0', library])
  else
    assert.match(missing(presence, 'incomplete'), /CUDA provider needs (lib\S+\.so\.\d+(, )?)+ \(CUDA 13\)/)
})

describe('a GPU test on a machine', () => {
  /** A registry whose webgpu backend reads `probe`'s machine, and the inits it was asked for. */
  function registryOf(probe: Awaited<ReturnType<typeof machine>>) {
    const started: string[] = []
    const registry = new BackendRegistry()
    registry.register({
      name: 'webgpu',
      priority: 200,
      gpu: true,
      presence: () => webgpuPresence(probe),
      init: async (): Promise<Backend> => {
        started.push('webgpu')
        return { name: 'webgpu', device: 'gpu', format: 'onnx', createSession: async () => assert.fail() }
      },
    })
    registry.register({
      name: 'cpu',
      priority: 100,
      init: async () => ({
        name: 'cpu',
        device: 'cpu',
        format: 'onnx',
        createSession: async () => assert.fail(),
      }),
    })
    return { registry, started }
  }

  it('skips where the GPU is absent, unless ATOLL_REQUIRE_DEVICE names it', async () => {
    const { registry, started } = registryOf(await machine([NVIDIA_ICD, LOADER]))
    const plain = deviceUnderTest(registry, 'webgpu', {})
    assert.match(String(plain.skip), /^no GPU device node/)
    const required = deviceUnderTest(registry, 'webgpu', { ATOLL_REQUIRE_DEVICE: 'cuda, webgpu' })
    assert.equal(required.skip, false)
    await assert.rejects(required.backend(), {
      name: 'DeviceAbsentError',
      message: /^ATOLL_REQUIRE_DEVICE=webgpu, but no GPU device node/,
    })
    assert.deepEqual(started, [])
  })

  it('runs and fails where the GPU is present without its driver, naming what is missing', async () => {
    const { registry, started } = registryOf(await machine(['dev/nvidia0', LOADER]))
    const test = deviceUnderTest(registry, 'webgpu', {})
    assert.equal(test.skip, false)
    await assert.rejects(test.backend(), (err: Error & { causes: { error: Error }[] }) => {
      assert.equal(err.name, 'BackendUnavailableError')
      assert.match(err.message, /webgpu: \/dev\/nvidia0 but no GPU Vulkan driver manifest/)
      assert.equal(err.causes[0].error.name, 'DeviceSetupError')
      return true
    })
    assert.equal((await registry.resolve('auto')).name, 'cpu', 'a user on `auto` gets the CPU')
    assert.deepEqual(started, [], 'a backend whose driver is missing is not started')
  })

  it('runs where the GPU and its driver are present, starting the backend', async () => {
    const { registry, started } = registryOf(await machine(['dev/nvidia0', NVIDIA_ICD, LOADER]))
    const test = deviceUnderTest(registry, 'webgpu', {})
    assert.equal(test.skip, false)
    assert.equal((await test.backend()).name, 'webgpu')
    assert.deepEqual(started, ['webgpu'])
  })
})
