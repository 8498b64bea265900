/**
 * onnxruntime's CUDA provider from the npm registry. onnxruntime-node's own CUDA install downloads
 * the provider from a NuGet feed; the same onnxruntime release's Linux x64 CUDA provider is on the
 * npm registry in a Unity package, which this installs beside onnxruntime-node's core library —
 * where the core looks for providers. A provider loads only into the core of its own version, so
 * the version pins here and onnxruntime-node's in package.json move together.
 */
import { spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { copyFileSync, createReadStream, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { parseJson, parseWith } from '@atoll/core'
import * as z from 'zod/mini'
import { DeviceSetupError } from '../errors.ts'

/** A registry package holding provider libraries, pinned by its integrity. */
export interface ProviderPackage {
  name: string
  version: string
  /** the onnxruntime core version its providers load into */
  onnxruntime: string
  /** npm's `dist.integrity` of the .tgz */
  integrity: string
  /** the folder inside the .tgz that holds the libraries */
  folder: string
  libraries: readonly string[]
}

/** The registry package with onnxruntime 1.29.0's CUDA 13 provider libraries. */
export const CUDA_PROVIDER_PACKAGE: ProviderPackage = {
  name: 'com.github.asus4.onnxruntime.linux-x64-gpu',
  version: '0.4.9',
  onnxruntime: '1.29.0',
  integrity:
    'sha512-FopIhNE/Ng+v2X65wVc9clPCBCvhvA53Hxo2U0Kf5fGdVsC7iCA+mZ0KLWggcQAj7TIZ6pNidR4AC10g74Xo6w==',
  folder: 'package/Plugins/Linux/x64',
  libraries: ['libonnxruntime_providers_shared.so', 'libonnxruntime_providers_cuda.so'],
}

/** onnxruntime-node's package folder, as this package resolves it. */
function onnxruntimeNodePackage(): string {
  return join(dirname(createRequire(import.meta.url).resolve('onnxruntime-node')), '..')
}

/** Where onnxruntime-node's core library is, and so where it looks for provider libraries. */
export function onnxruntimeNodeFolder(): string {
  return join(onnxruntimeNodePackage(), 'bin', 'napi-v6', process.platform, process.arch)
}

/** The installed onnxruntime-node's version. */
export function onnxruntimeNodeVersion(): string {
  const file = join(onnxruntimeNodePackage(), 'package.json')
  const raw = parseJson(readFileSync(file, 'utf8'), file, DeviceSetupError)
  return parseWith(z.object({ version: z.string() }), raw, DeviceSetupError, { root: file }).version
}

export interface InstallCudaProviderOptions {
  /** the package's .tgz, fetched elsewhere (`npm pack NAME@VERSION`) for a machine without the registry */
  tarball?: string
  log?: (line: string) => void
  /** the package (default CUDA_PROVIDER_PACKAGE) and where its libraries go (default beside onnxruntime-node's core): tests */
  package?: ProviderPackage
  destination?: string
}

/** Fetches (or takes) the provider package, checks its integrity, and installs its libraries; returns the files written. */
export async function installCudaProvider(options: InstallCudaProviderOptions = {}): Promise<string[]> {
  const log = options.log ?? (() => {})
  const pkg = options.package ?? CUDA_PROVIDER_PACKAGE
  if (process.platform !== 'linux' || process.arch !== 'x64')
    throw new DeviceSetupError(
      `the registry's CUDA provider is for Linux x64, not ${process.platform} ${process.arch}`,
    )
  const core = onnxruntimeNodeVersion()
  if (core !== pkg.onnxruntime)
    throw new DeviceSetupError(
      `${pkg.name}@${pkg.version} holds onnxruntime ${pkg.onnxruntime}'s provider, which loads only into the same core; onnxruntime-node here is ${core}`,
    )
  const work = mkdtempSync(join(tmpdir(), 'atoll-cuda-'))
  try {
    const tarball = options.tarball ?? fetchPackage(pkg, work, log)
    log(`checking ${tarball} against ${pkg.name}@${pkg.version}'s integrity…`)
    const digest = `sha512-${await sha512(tarball)}`
    if (digest !== pkg.integrity)
      throw new DeviceSetupError(
        `${tarball} is not ${pkg.name}@${pkg.version}: its sha512 is ${digest}, expected ${pkg.integrity}`,
      )
    const members = pkg.libraries.map((l) => `${pkg.folder}/${l}`)
    const untar = spawnSync('tar', ['-xzf', tarball, '-C', work, '--no-same-owner', ...members], {
      encoding: 'utf8',
    })
    if (untar.status !== 0)
      throw new DeviceSetupError(`cannot unpack ${tarball}: ${untar.stderr || untar.error?.message}`)
    const dest = options.destination ?? onnxruntimeNodeFolder()
    return pkg.libraries.map((library) => {
      const target = join(dest, library)
      // copy then rename: a half-written provider must never be what onnxruntime finds
      copyFileSync(join(work, pkg.folder, library), `${target}.partial`)
      renameSync(`${target}.partial`, target)
      log(`installed ${target}`)
      return target
    })
  } finally {
    rmSync(work, { recursive: true, force: true })
  }
}

/** `npm pack` of the pinned package into `dir` (about 180 MB). */
function fetchPackage({ name, version }: ProviderPackage, dir: string, log: (line: string) => void): string {
  log(`fetching ${name}@${version} from the npm registry (about 180 MB)…`)
  const run = spawnSync('npm', ['pack', `${name}@${version}`, '--pack-destination', dir, '--silent'], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  if (run.error !== undefined || run.status !== 0) {
    const why = run.error?.message ?? run.stderr.trim()
    throw new DeviceSetupError(
      `cannot fetch ${name}@${version} (${why}); where the registry is out of reach, run \`npm pack ${name}@${version}\` elsewhere and pass the file with --from`,
    )
  }
  return join(dir, run.stdout.trim().split('\n').at(-1) ?? '')
}

function sha512(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha512')
    createReadStream(file)
      .on('data', (chunk) => hash.update(chunk))
      .on('end', () => resolve(hash.digest('base64')))
      .on('error', (err) => reject(new DeviceSetupError(`cannot read ${file}: ${err.message}`)))
  })
}
