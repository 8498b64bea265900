import { BackendUnavailableError, DeviceAbsentError, DeviceSetupError } from '../errors.ts'
import type { Backend } from './backend.ts'
import type { DevicePresence } from './presence.ts'

/** A backend that may or may not work here; `init` proves it (loads libraries, runs a probe). */
export interface BackendProvider {
  name: string
  /** higher first when falling through a list */
  priority: number
  /** chosen by `auto` and `gpu` when true (default true); the reference backend opts out */
  automatic?: boolean
  /** GPU-backed, so part of the `gpu` choice */
  gpu?: boolean
  /** whether the device it needs is here, decided without starting it (default: needs none) */
  presence?(): DevicePresence
  init(): Promise<Backend>
}

/** `auto`: best available by priority; `gpu`: the GPU backends by priority; otherwise one name or a comma list. */
export type BackendChoice = string

/**
 * Backends by priority. `resolve` tries the chosen ones in order: a failed init falls through to the
 * next, and when all fail the error lists every one with its cause. A backend whose device is
 * absent, or present without what the backend loads, is not started at all. Init results (success
 * or failure) are remembered, as onnxruntime-common does, so a probe runs once per process.
 */
export class BackendRegistry {
  private readonly providers = new Map<string, BackendProvider>()
  private readonly inits = new Map<string, Promise<Backend>>()

  register(provider: BackendProvider): void {
    this.providers.set(provider.name, provider)
    this.inits.delete(provider.name)
  }

  /** every registered name, highest priority first */
  names(): string[] {
    return [...this.providers.values()].sort((a, b) => b.priority - a.priority).map((p) => p.name)
  }

  /** what a choice may name: `auto`, `gpu`, then every backend, highest priority first */
  choices(): string[] {
    return ['auto', 'gpu', ...this.names()]
  }

  /** The ordered candidates a choice stands for; unknown names are an error naming the known ones. */
  candidates(choice: BackendChoice): string[] {
    const sorted = [...this.providers.values()].sort((a, b) => b.priority - a.priority)
    if (choice === 'auto') return sorted.filter((p) => p.automatic !== false).map((p) => p.name)
    if (choice === 'gpu') return sorted.filter((p) => p.gpu && p.automatic !== false).map((p) => p.name)
    const names = choice.split(',').map((s) => s.trim())
    for (const n of names) this.provider(n)
    return names
  }

  async resolve(choice: BackendChoice): Promise<Backend> {
    const names = this.candidates(choice)
    const causes: { backend: string; error: Error }[] = []
    for (const name of names) {
      try {
        return await this.init(name)
      } catch (err) {
        causes.push({ backend: name, error: err as Error })
      }
    }
    const detail = causes.map((c) => `  ${c.backend}: ${firstLine(c.error.message)}`).join('\n')
    const what = names.length === 1 ? `backend '${names[0]}' is not` : `no backend of '${choice}' is`
    throw new BackendUnavailableError(`${what} available here:\n${detail || '  (none registered)'}`, causes)
  }

  /**
   * Whether the device of backend `name` is on this machine, without starting it: a test skips only
   * where its hardware is absent, and fails where it is present and the backend cannot start.
   */
  presence(name: string): DevicePresence {
    return this.provider(name).presence?.() ?? { status: 'ready', found: [] }
  }

  private provider(name: string): BackendProvider {
    const provider = this.providers.get(name)
    if (provider === undefined) {
      throw new BackendUnavailableError(`unknown backend '${name}' (known: ${this.choices().join(', ')})`)
    }
    return provider
  }

  private init(name: string): Promise<Backend> {
    let pending = this.inits.get(name)
    if (pending === undefined) {
      const presence = this.presence(name)
      if (presence.status === 'ready') pending = this.provider(name).init()
      else if (presence.status === 'absent') pending = Promise.reject(new DeviceAbsentError(presence.missing))
      else pending = Promise.reject(new DeviceSetupError(presence.missing))
      this.inits.set(name, pending)
    }
    return pending
  }
}

function firstLine(message: string): string {
  const line = message.split('\n').find((l) => l.trim() !== '') ?? message
  return line.length > 300 ? `${line.slice(0, 300)}…` : line
}
