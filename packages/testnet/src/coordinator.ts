/**
 * The testnet's own coordinator (docs/testnet.md, "Training on a testnet"). `up` makes a key in the
 * state directory before any daemon starts and starts every daemon with `--allow` its peer id (and
 * the ids given to `up --allow`): the daemons refuse stages from anyone else. `exec` then tells a
 * command where that key and the peer's daemon are, in the environment that `atoll train` takes the
 * defaults of `--identity` and `--data-dir` from, so `exec us1 -- atoll train JOB.yaml` needs no flags.
 * The key goes with `down`; nothing outside the testnet allows it.
 */
import { coordinatorDir } from './state.ts'

/** Makes the coordinator's key (or loads the one there) and returns its peer id. */
export async function makeCoordinator(): Promise<string> {
  // imported here: libp2p would slow down every other command of the CLI
  const { loadIdentity, peerIdOfKey } = await import('@atoll/net')
  return peerIdOfKey(await loadIdentity(coordinatorDir()))
}

/** `atoll peer` flags that let `coordinators` (peer ids) hand the daemon stages. */
export function allowFlags(coordinators: readonly string[]): string[] {
  return coordinators.flatMap((id) => ['--allow', id])
}

/** Where, inside a peer, the testnet's coordinator key and the peer's daemon data directory are. */
export interface PeerDirs {
  coordinator: string
  dataDir: string
}

/** The environment that makes `atoll train` coordinate with the testnet's key through the peer's daemon. */
export function trainEnvironment(dirs: PeerDirs): Record<string, string> {
  return { ATOLL_TRAIN_IDENTITY: dirs.coordinator, ATOLL_TRAIN_DATA_DIR: dirs.dataDir }
}
