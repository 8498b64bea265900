import type { Command } from '../command.ts'
import { bench } from './bench.ts'
import { demo } from './demo.ts'
import { evalCommand } from './eval.ts'
import { fit } from './fit.ts'
import { fl } from './fl.ts'
import { grads } from './grads.ts'
import { inspect } from './inspect.ts'
import { peer } from './peer.ts'
import { peers } from './peers.ts'
import { plan } from './plan.ts'
import { setup } from './setup.ts'
import { test } from './test.ts'
import { testnet } from './testnet.ts'
import { train } from './train.ts'

/** Every sub-command, in the order `atoll --help` lists them. Registered explicitly, not by import side effect. */
export const commands: Command[] = [
  demo,
  test,
  bench,
  testnet,
  peer,
  peers,
  train,
  fl,
  inspect,
  grads,
  fit,
  evalCommand,
  plan,
  setup,
]
