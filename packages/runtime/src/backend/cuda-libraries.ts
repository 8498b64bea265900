/**
 * The CUDA libraries onnxruntime's CUDA provider links against, found where GPU boxes keep them and
 * loaded into this process before the provider is: the CUDA toolkit's folders, LD_LIBRARY_PATH, and
 * the `nvidia/…/lib` folders of a Python site-packages where PyTorch (or any CUDA wheel) installed
 * them — as onnxruntime's own Python package preloads them. A library loaded by its full path
 * satisfies the provider's dependency on its soname, so no LD_LIBRARY_PATH needs setting before
 * Node starts.
 */
import { spawnSync } from 'node:child_process'
import { existsSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { DeviceSetupError } from '../errors.ts'

/** What `libonnxruntime_providers_cuda.so` (onnxruntime 1.29, built for CUDA 13) needs, in load order. */
export const CUDA_RUNTIME_LIBRARIES = [
  'libcudart.so.13',
  'libcublasLt.so.13',
  'libcublas.so.13',
  'libcurand.so.10',
] as const
/** Loaded by the provider only when a model needs it (convolutions, RNNs): found if present, never required. */
export const CUDA_OPTIONAL_LIBRARIES = ['libcudnn.so.9'] as const
/** The NVIDIA driver's library: the system's linker finds it where the driver installed it. */
const DRIVER_LIBRARY = 'libcuda.so.1'
/** dlopen flags: resolve now, export symbols to later libraries, never unload (glibc's RTLD_NODELETE, which Node does not name). */
const PRELOAD_FLAGS = 0x2 | 0x100 | 0x1000

export interface CudaLibraries {
  /** soname → the file found (a bare soname where only the system's linker path has it) */
  found: Map<string, string>
  /** required sonames found nowhere */
  missing: string[]
  /** the folders looked in, in order */
  searched: string[]
}

export interface CudaLibrarySearch {
  env?: NodeJS.ProcessEnv
  /** look only in these folders, not in the standard ones nor the system linker's (tests) */
  folders?: readonly string[]
}

let cached: CudaLibraries | undefined

/** Looks for the CUDA runtime libraries (once per process for the default search). */
export function findCudaLibraries(search: CudaLibrarySearch = {}): CudaLibraries {
  const standard = search.env === undefined && search.folders === undefined
  if (standard && cached !== undefined) return cached
  const searched = search.folders ? [...search.folders] : cudaLibraryFolders(search.env ?? process.env)
  const found = new Map<string, string>()
  const missing: string[] = []
  const system = search.folders ? '' : systemLinkerListing()
  for (const soname of [...CUDA_RUNTIME_LIBRARIES, ...CUDA_OPTIONAL_LIBRARIES]) {
    const dir = searched.find((d) => existsSync(join(d, soname)))
    if (dir !== undefined) found.set(soname, join(dir, soname))
    else if (system.includes(`${soname} `)) found.set(soname, soname)
    else if ((CUDA_RUNTIME_LIBRARIES as readonly string[]).includes(soname)) missing.push(soname)
  }
  const result = { found, missing, searched }
  if (standard) cached = result
  return result
}

/** Loads the driver's library and every CUDA library found, or says which one is missing and where it was looked for. */
export function loadCudaLibraries(libraries: CudaLibraries = findCudaLibraries()): void {
  if (libraries.missing.length > 0) throw new DeviceSetupError(missingMessage(libraries))
  for (const path of [DRIVER_LIBRARY, ...libraries.found.values()]) {
    try {
      process.dlopen({ exports: {} }, path, PRELOAD_FLAGS)
    } catch (err) {
      // loaded, but not a Node addon: the library stays (RTLD_NODELETE), which is all we want
      if ((err as Error).message.startsWith('Module did not self-register')) continue
      const what = path === DRIVER_LIBRARY ? `the NVIDIA driver's ${DRIVER_LIBRARY}` : path
      throw new DeviceSetupError(`cuda: cannot load ${what}: ${(err as Error).message}`)
    }
  }
}

/** Names the missing libraries and every folder searched, with how to provide them. */
export function missingMessage({ missing, searched }: CudaLibraries): string {
  return (
    `onnxruntime's CUDA provider needs ${missing.join(', ')} (CUDA 13), found in none of: ` +
    `${searched.join(', ') || '(no folder)'} nor on the system's library path. Install the CUDA 13 toolkit, ` +
    'or PyTorch for cu130 (its nvidia-* wheels), or add their lib folder to LD_LIBRARY_PATH'
  )
}

/** LD_LIBRARY_PATH, CUDA_HOME/CUDA_PATH, the toolkit's standard folders, then Python's nvidia wheels. */
function cudaLibraryFolders(env: NodeJS.ProcessEnv): string[] {
  const listed = (env.LD_LIBRARY_PATH ?? '').split(':').filter(Boolean)
  const homes = [env.CUDA_HOME, env.CUDA_PATH].filter((h): h is string => h !== undefined && h !== '')
  const toolkits = [
    '/usr/local/cuda',
    ...subfolders('/usr/local', /^cuda-13/)
      .sort()
      .reverse(),
  ]
  const toolkitLibs = [...homes, ...toolkits].flatMap((home) => [
    join(home, 'lib64'),
    join(home, 'lib'),
    join(home, 'targets/x86_64-linux/lib'),
  ])
  const wheels = pythonSitePackages(env).flatMap((site) => {
    const nvidia = join(site, 'nvidia')
    // CUDA 13 wheels share nvidia/cu13/lib; CUDA 12's kept one folder each (nvidia/cublas/lib, …)
    return [join(nvidia, 'cu13/lib'), ...subfolders(nvidia, /./).map((p) => join(p, 'lib'))]
  })
  return [...new Set([...listed, ...toolkitLibs, ...wheels])].filter((d) => existsSync(d))
}

/** The site-packages folders of the `python3` on PATH (a venv's or conda's when one is active). */
function pythonSitePackages(env: NodeJS.ProcessEnv): string[] {
  const script = 'import site,sys;print("\\n".join(site.getsitepackages()+[site.getusersitepackages()]))'
  const run = spawnSync('python3', ['-c', script], { env, encoding: 'utf8', timeout: 10_000 })
  if (run.status !== 0) return [] // no Python here: no wheels to look in
  return run.stdout.split('\n').filter(Boolean)
}

/** What the system's linker finds without help (its cache), as `ldconfig -p` lists it. */
function systemLinkerListing(): string {
  const run = spawnSync('ldconfig', ['-p'], { encoding: 'utf8', timeout: 10_000 })
  return run.status === 0 ? run.stdout : ''
}

function subfolders(dir: string, name: RegExp): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true })
      .filter((e) => (e.isDirectory() || e.isSymbolicLink()) && name.test(e.name))
      .map((e) => join(dir, e.name))
  } catch {
    return [] // absent or unreadable: nothing installed there
  }
}
