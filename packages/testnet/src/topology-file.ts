import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { basename, extname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parse } from 'yaml'
import { TopologyError } from './errors.ts'
import { parseTopology, type Topology } from './topology.ts'

/** The preset topologies live in the repository's top-level `testnet/` folder, one YAML file each. */
export const presetDir = fileURLToPath(new URL('../../../testnet/', import.meta.url))

export function presetNames(): string[] {
  if (!existsSync(presetDir)) return []
  return readdirSync(presetDir)
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => f.slice(0, -'.yaml'.length))
    .sort()
}

/** Parses YAML (a superset of JSON) text of a topology; `source` names it in errors. */
export function parseTopologyText(text: string, source: string): Topology {
  let doc: unknown
  try {
    doc = parse(text, { prettyErrors: true })
  } catch (err) {
    throw new TopologyError('', `${source} is not valid YAML or JSON: ${(err as Error).message}`)
  }
  try {
    return parseTopology(doc, basename(source, extname(source)))
  } catch (err) {
    if (err instanceof TopologyError) throw new TopologyError(err.path, `${err.detail} (in ${source})`)
    throw err
  }
}

/** A preset name (`geo3`) or the path of a YAML or JSON file. */
export function loadTopology(nameOrFile: string): Topology {
  const presets = presetNames()
  if (presets.includes(nameOrFile)) {
    return parseTopologyText(readFileSync(`${presetDir}${nameOrFile}.yaml`, 'utf8'), `${nameOrFile}.yaml`)
  }
  if (!existsSync(nameOrFile)) {
    throw new TopologyError('', `no preset or file '${nameOrFile}' (presets: ${presets.join(', ')})`)
  }
  return parseTopologyText(readFileSync(nameOrFile, 'utf8'), nameOrFile)
}
