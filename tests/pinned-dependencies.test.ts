/**
 * Every dependency of every package in the workspace is pinned to an exact version (or is a
 * workspace package), so that an install months from now resolves what was tested today.
 */
import assert from 'node:assert/strict'
import { globSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const SECTIONS = ['dependencies', 'devDependencies', 'optionalDependencies', 'peerDependencies'] as const
/** x.y.z with an optional pre-release and build: what `npm view` prints, nothing a range could match more of. */
const EXACT = /^\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$/

/** `package.json` at the root and in every folder pnpm-workspace.yaml lists. */
function manifests(): string[] {
  const yaml = readFileSync(join(root, 'pnpm-workspace.yaml'), 'utf8')
  const globs = [...yaml.matchAll(/^\s+-\s+['"]?([^'"\s]+\/\*)['"]?\s*$/gm)].map((m) => m[1])
  assert.ok(globs.length > 0, 'pnpm-workspace.yaml lists its packages')
  return ['package.json', ...globs.flatMap((g) => globSync(`${g}/package.json`, { cwd: root }))].sort()
}

/** `file: section.name: spec` for every spec that is neither exact nor `workspace:*`. */
function unpinned(file: string, manifest: Record<string, unknown>): string[] {
  return SECTIONS.flatMap((section) =>
    Object.entries((manifest[section] ?? {}) as Record<string, string>)
      .filter(([, spec]) => spec !== 'workspace:*' && !EXACT.test(spec))
      .map(([name, spec]) => `${file}: ${section}.${name}: '${spec}'`),
  )
}

test('every package.json pins each dependency to an exact version or workspace:*', () => {
  const files = manifests()
  assert.ok(files.includes('packages/cli/package.json') && files.includes('examples/mnist-cnn/package.json'))
  const offenders = files.flatMap((f) => unpinned(f, JSON.parse(readFileSync(join(root, f), 'utf8'))))
  assert.deepEqual(offenders, [])
})

test('the check refuses ranges, tags and wildcards', () => {
  const specs = { a: '*', b: '^1.2.3', c: '~1.2.3', d: '1.x', e: 'latest', f: '>=1.0.0', g: 'workspace:^' }
  const found = unpinned('p.json', { dependencies: specs, devDependencies: { h: '1.2' } })
  assert.equal(found.length, 8)
  assert.ok(found.includes("p.json: dependencies.a: '*'"))
  assert.deepEqual(
    unpinned('p.json', { dependencies: { a: '1.2.3', b: '4.0.0-rc.1', c: 'workspace:*' } }),
    [],
  )
})
