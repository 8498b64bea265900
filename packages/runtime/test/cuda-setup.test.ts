/**
 * The CUDA provider's set-up without a GPU: finding the CUDA libraries it links against in the
 * folders GPU boxes keep them in, and installing the provider from a registry package's tarball
 * (integrity, core version, where the libraries land). The real package is 180 MB: these tests
 * build a small one of the same layout.
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { test } from 'node:test'
import { tempDir } from './temp-dir.ts'
import {
  CUDA_PROVIDER_PACKAGE,
  findCudaLibraries,
  installCudaProvider,
  loadCudaLibraries,
  type ProviderPackage,
} from '../src/index.ts'
import { onnxruntimeNodeVersion } from '../src/backend/cuda-provider.ts'

test('the CUDA libraries are found across the folders searched, and a missing one is named with every folder', async () => {
  const toolkit = await tempDir('cuda-toolkit')
  const wheels = await tempDir('cuda-wheels')
  for (const soname of ['libcudart.so.13', 'libcublas.so.13']) await writeFile(join(toolkit, soname), '')
  await writeFile(join(wheels, 'libcublasLt.so.13'), '')
  const partial = findCudaLibraries({ folders: [toolkit, wheels] })
  assert.equal(partial.found.get('libcudart.so.13'), join(toolkit, 'libcudart.so.13'))
  assert.equal(partial.found.get('libcublasLt.so.13'), join(wheels, 'libcublasLt.so.13'))
  assert.deepEqual(partial.missing, ['libcurand.so.10'])
  assert.throws(
    () => loadCudaLibraries(partial),
    (err: Error) =>
      err.name === 'DeviceSetupError' &&
      err.message.includes('needs libcurand.so.10 (CUDA 13)') &&
      err.message.includes(toolkit) &&
      err.message.includes(wheels),
  )
  await writeFile(join(wheels, 'libcurand.so.10'), '')
  const whole = findCudaLibraries({ folders: [toolkit, wheels] })
  assert.deepEqual(whole.missing, [])
  assert.equal(whole.found.has('libcudnn.so.9'), false, 'cuDNN is optional: not found, not missing')
})

/** A .tgz laid out like the registry package, and its npm integrity. */
async function providerTarball(libraries: Record<string, string>) {
  const dir = await tempDir('provider-pkg')
  const folder = join(dir, 'package/Plugins/Linux/x64')
  await mkdir(folder, { recursive: true })
  for (const [name, text] of Object.entries(libraries)) await writeFile(join(folder, name), text)
  const tarball = join(dir, 'provider.tgz')
  const tar = spawnSync('tar', ['-czf', tarball, '-C', dir, 'package'])
  assert.equal(tar.status, 0, String(tar.stderr))
  const integrity = `sha512-${createHash('sha512')
    .update(await readFile(tarball))
    .digest('base64')}`
  return { tarball, integrity }
}

test('the provider installs from a tarball that matches its pinned integrity, and nothing lands otherwise', async () => {
  const { tarball, integrity } = await providerTarball({
    'libonnxruntime_providers_shared.so': 'shared',
    'libonnxruntime_providers_cuda.so': 'cuda',
  })
  const pkg: ProviderPackage = { ...CUDA_PROVIDER_PACKAGE, integrity, onnxruntime: onnxruntimeNodeVersion() }
  const destination = await tempDir('provider-dest')
  const written = await installCudaProvider({ tarball, package: pkg, destination })
  assert.deepEqual(written, [
    join(destination, 'libonnxruntime_providers_shared.so'),
    join(destination, 'libonnxruntime_providers_cuda.so'),
  ])
  assert.equal(await readFile(written[1], 'utf8'), 'cuda')

  const elsewhere = await tempDir('provider-dest')
  await assert.rejects(
    installCudaProvider({
      tarball,
      package: { ...pkg, integrity: CUDA_PROVIDER_PACKAGE.integrity },
      destination: elsewhere,
    }),
    /is not com\.github\.asus4\.onnxruntime\.linux-x64-gpu@0\.4\.9: its sha512 is sha512-/,
  )
  await assert.rejects(
    installCudaProvider({ tarball, package: { ...pkg, onnxruntime: '1.0.0' }, destination: elsewhere }),
    /holds onnxruntime 1\.0\.0's provider, which loads only into the same core; onnxruntime-node here is /,
  )
  assert.deepEqual(await readdir(elsewhere), [])
})

test('the pinned provider is for the onnxruntime-node this workspace installs', () => {
  assert.equal(CUDA_PROVIDER_PACKAGE.onnxruntime, onnxruntimeNodeVersion())
})
