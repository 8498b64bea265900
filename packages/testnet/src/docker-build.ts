import { type ChildProcess, spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  APP_DIR,
  CONTAINER_ENTRY,
  dependencyEntries,
  imageRepo,
  nativeFiles,
  repoRoot,
  SYSTEM_BINARIES,
  sharedLibraries,
  TAR_EXCLUDES,
  WORKSPACE_DIRS,
  withLinkTargets,
  workspaceMembers,
} from './docker-image.ts'
import { CommandFailedError } from './errors.ts'
import { run, tryRun } from './sh.ts'

/** What goes into the image from the workspace (besides the dependency entries). */
function appPaths(): string[] {
  return [
    'package.json',
    'testnet',
    ...workspaceMembers().flatMap((member) =>
      ['package.json', 'src', 'node_modules'].map((f) => `${member}/${f}`),
    ),
  ].filter((p) => existsSync(join(repoRoot, p)))
}

/**
 * A fingerprint of the inputs: the lock file, Node's version, and the size and mtime of every source
 * file. An image tagged with it is reused; any edit makes a new one.
 */
export function imageFingerprint(): string {
  const h = createHash('sha256')
  h.update(process.version)
  h.update(readFileSync(join(repoRoot, 'pnpm-lock.yaml')))
  const walk = (path: string) => {
    const st = statSync(path)
    if (st.isDirectory()) {
      for (const name of readdirSync(path).sort()) if (name !== 'node_modules') walk(join(path, name))
    } else h.update(`${path}:${st.size}:${st.mtimeMs}\n`)
  }
  for (const p of appPaths()) walk(join(repoRoot, p))
  return h.digest('hex').slice(0, 16)
}

function imageExists(tag: string): boolean {
  return tryRun(['docker', 'image', 'inspect', tag]).status === 0
}

/** The `tar -T` list: `-C dir` lines switch the directory the following paths are relative to. */
function fileList(staging: string): string {
  const node = realpathSync(process.execPath)
  const entries = dependencyEntries().map((e) => `node_modules/.pnpm/${e}`)
  const native = nativeFiles(entries.map((e) => join(repoRoot, e)))
  const libs = sharedLibraries([node, ...SYSTEM_BINARIES, ...native])
  return [
    // Absolute paths first: tar stores them without the leading slash (a -C before them would apply).
    ...[node, ...withLinkTargets(SYSTEM_BINARIES), ...libs],
    `-C ${staging}`,
    'etc',
    'tmp',
    'root',
    `-C ${repoRoot}`,
    ...appPaths(),
    ...entries,
  ].join('\n')
}

/** Renames inside the archive: the workspace under /app, Node to /usr/local/bin, dash as /bin/sh. */
function transforms(): string[] {
  const node = realpathSync(process.execPath).slice(1).replace(/[.]/g, '\\.')
  const app = APP_DIR.slice(1)
  return [
    ...WORKSPACE_DIRS.map((dir) => `s,^${dir}/,${app}/${dir}/,S`),
    `s,^node_modules/,${app}/node_modules/,S`,
    `s,^package\\.json$,${app}/package.json,S`,
    `s,^testnet,${app}/testnet,S`,
    `s,^${node}$,usr/local/bin/node,S`,
    's,^bin/dash$,bin/sh,S',
  ].flatMap((t) => ['--transform', t])
}

function staging(): string {
  const dir = mkdtempSync(join(tmpdir(), 'atoll-rootfs-'))
  mkdirSync(join(dir, 'etc'))
  mkdirSync(join(dir, 'tmp'), { mode: 0o1777 })
  mkdirSync(join(dir, 'root'))
  writeFileSync(
    join(dir, 'etc', 'passwd'),
    'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/sh\n',
  )
  writeFileSync(join(dir, 'etc', 'group'), 'root:x:0:\nnogroup:x:65534:\n')
  return dir
}

/**
 * Returns the tag of an image with the current sources, building it when there is none: a tar of
 * the files above piped straight into `docker import`, so nothing is copied twice.
 */
export async function ensureImage(log?: (m: string) => void): Promise<string> {
  const repo = imageRepo()
  const tag = `${repo}:${imageFingerprint()}`
  if (imageExists(tag)) return tag
  log?.(`assembling the peer image ${tag} from local files`)
  const dir = staging()
  try {
    writeFileSync(join(dir, 'files'), `${fileList(dir)}\n`)
    const tarArgs = [
      '-c',
      '-f',
      '-',
      '--owner=0',
      '--group=0',
      ...TAR_EXCLUDES.map((e) => `--exclude=${e}`),
      ...transforms(),
      '-T',
      join(dir, 'files'),
    ]
    const importArgs = [
      'import',
      '--change',
      'ENV PATH=/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
      '--change',
      `WORKDIR ${APP_DIR}`,
      '--change',
      `ENTRYPOINT ${JSON.stringify(CONTAINER_ENTRY)}`,
      '-',
      tag,
    ]
    await pipe(['tar', ...tarArgs], ['docker', ...importArgs]).catch((err) => {
      tryRun(['docker', 'rmi', tag]) // a failed tar still leaves docker a partial image
      throw err
    })
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
  removeOlderImages(repo, tag)
  return tag
}

/** Runs `a | b`; fails with the stderr of whichever side failed. */
async function pipe(a: string[], b: string[]): Promise<void> {
  const left = spawn(a[0], a.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] })
  const right = spawn(b[0], b.slice(1), { stdio: ['pipe', 'ignore', 'pipe'] })
  left.stdout.pipe(right.stdin)
  const [codeA, codeB] = await Promise.all([finished(left), finished(right)])
  if (codeB.code !== 0) throw new CommandFailedError(b, codeB.code, codeB.stderr)
  if (codeA.code !== 0) throw new CommandFailedError(a.slice(0, 3), codeA.code, codeA.stderr)
}

function finished(child: ChildProcess): Promise<{ code: number | null; stderr: string }> {
  let stderr = ''
  child.stderr?.on('data', (d) => {
    stderr += d
  })
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stderr })))
}

/** One image a repository: each edit of the sources would otherwise leave ~500 MB behind. */
function removeOlderImages(repo: string, keep: string): void {
  const tags = run(['docker', 'images', repo, '--format', '{{.Repository}}:{{.Tag}}'])
    .split('\n')
    .filter(Boolean)
  for (const t of tags) if (t !== keep) tryRun(['docker', 'rmi', t])
}
