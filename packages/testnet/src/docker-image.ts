import { existsSync, lstatSync, readdirSync, readlinkSync, realpathSync } from 'node:fs'
import { dirname, isAbsolute, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseWith } from '@atoll/core'
import * as z from 'zod/mini'
import { TestnetError } from './errors.ts'
import { tryRun } from './sh.ts'

/**
 * The peer image, assembled from this machine's files instead of a registry base image (none can be
 * pulled here): Node, the shared libraries it and the native addons load, iproute2 for `tc`, a shell,
 * and the workspace with its production dependencies. `docker/Dockerfile` builds the same thing from
 * `node:24-slim` on a machine that can pull.
 */
export const IMAGE_REPO = 'atoll-peer'
/** A docker repository name (lower case, `.`, `_`, `-` between parts); it reaches docker's command line. */
const REPOSITORY = /^[a-z0-9]+(?:[._-][a-z0-9]+)*$/

/**
 * The repository the peer image is tagged in: ATOLL_TESTNET_IMAGE, or IMAGE_REPO. A test gives its
 * run a repository of its own, so that it neither reuses nor (keeping one image a repository) removes
 * the user's images.
 */
export function imageRepo(): string {
  const repo = process.env.ATOLL_TESTNET_IMAGE ?? IMAGE_REPO
  return parseWith(
    z.string().check(z.regex(REPOSITORY, { error: `a docker repository name (${REPOSITORY})` })),
    repo,
    TestnetError,
    { root: 'ATOLL_TESTNET_IMAGE' },
  )
}
export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url))
/** Where the workspace lands in the image; the CLI is then `node /app/packages/cli/src/main.ts`. */
export const APP_DIR = '/app'
/** Shapes the container's links, then runs what follows `--` (as docker/Dockerfile's ENTRYPOINT). */
export const CONTAINER_ENTRY = ['node', `${APP_DIR}/packages/testnet/src/container-main.ts`]
export const SYSTEM_BINARIES = ['/usr/sbin/ip', '/usr/sbin/tc', '/bin/dash']
/**
 * Dependencies that pnpm links only as optional peers of the WebRTC stack (React Native) or as build
 * tools; nothing the daemon loads on Node. Leaving them out keeps the image about 150 MB smaller.
 */
const UNUSED_ENTRIES =
  /^(react-native|@react-native|hermes-|react-devtools-core|fb-dotslash|typescript@|@biomejs|@babel)/
/**
 * onnxruntime-node ships binaries for every platform; the image needs linux/x64 only. Test folders
 * (the workspace's fixtures among them) are left out too, but not every `fixtures` folder: @stdlib's
 * type-of loads its lib/fixtures/re.js at run time, and the datasets' readers need it.
 */
export const TAR_EXCLUDES = [
  '*/bin/napi-v6/darwin',
  '*/bin/napi-v6/win32',
  '*/bin/napi-v6/linux/arm64',
  '*/test',
]

/**
 * The folders of the workspace's members (pnpm-workspace.yaml): the image holds them all, as the CLI
 * runs code of the examples (`atoll demo`, its usage) and loads every command at start.
 */
export const WORKSPACE_DIRS = ['packages', 'examples']

/** The workspace members, as `packages/core`: each folder of WORKSPACE_DIRS with a package.json. */
export function workspaceMembers(root = repoRoot): string[] {
  return WORKSPACE_DIRS.flatMap((dir) =>
    existsSync(join(root, dir))
      ? readdirSync(join(root, dir))
          .map((name) => `${dir}/${name}`)
          .filter((member) => existsSync(join(root, member, 'package.json')))
      : [],
  )
}

/** The `.pnpm` entries reachable from the workspace members' own dependency links. */
export function dependencyEntries(root = repoRoot): string[] {
  const store = join(root, 'node_modules', '.pnpm')
  const seen = new Set<string>()
  const queue: string[] = []
  const follow = (dir: string) => {
    for (const link of linksIn(dir)) {
      const target = realpathOrUndefined(link)
      if (target === undefined || !target.startsWith(`${store}/`)) continue
      const entry = relative(store, target).split('/')[0]
      if (!seen.has(entry) && !UNUSED_ENTRIES.test(entry)) {
        seen.add(entry)
        queue.push(join(store, entry, 'node_modules'))
      }
    }
  }
  for (const member of workspaceMembers(root)) follow(join(root, member, 'node_modules'))
  while (queue.length > 0) follow(queue.pop()!)
  return [...seen].sort()
}

/** Symlinks directly in `dir` and in its `@scope` folders. */
function linksIn(dir: string): string[] {
  if (!existsSync(dir)) return []
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const path = join(dir, d.name)
    if (d.isSymbolicLink()) return [path]
    if (d.isDirectory() && d.name.startsWith('@')) return linksIn(path)
    return []
  })
}

function realpathOrUndefined(path: string): string | undefined {
  try {
    return realpathSync(path)
  } catch {
    return undefined
  }
}

/**
 * Shared libraries that `files` load (per ldd), with the dynamic loader; a library that is a symlink
 * comes with the file it points to, so the image has both.
 */
export function sharedLibraries(files: string[]): string[] {
  const libs = new Set<string>()
  for (const file of files) {
    const out = tryRun(['ldd', file]).stdout
    for (const m of out.matchAll(/(?:=>\s*)?(\/\S+\.so[.\d]*)\s+\(0x/g)) {
      for (const p of withLinkTargets([m[1]])) libs.add(p)
    }
  }
  return [...libs].sort()
}

/** `paths` and, for each that is a symlink, the chain of files it points to. */
export function withLinkTargets(paths: string[]): string[] {
  const out: string[] = []
  for (const path of paths)
    for (let p: string | undefined = path; p !== undefined; p = linkTarget(p)) out.push(p)
  return out
}

function linkTarget(path: string): string | undefined {
  if (!lstatSync(path).isSymbolicLink()) return undefined
  const t = readlinkSync(path)
  return isAbsolute(t) ? t : join(dirname(path), t)
}

/** Native code in the dependencies: addons and the libraries beside them. */
export function nativeFiles(dirs: string[]): string[] {
  const out: string[] = []
  const walk = (dir: string) => {
    for (const d of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, d.name)
      if (d.isDirectory() && !/^(darwin|win32|arm64)$/.test(d.name)) walk(path)
      else if (d.isFile() && /\.(node|so(\.\d+)*)$/.test(d.name)) out.push(path)
    }
  }
  dirs.forEach(walk)
  return out
}
