/**
 * A worker's silence timers (CoordinatorSilence): a job is dropped once its coordinator has said
 * nothing for the whole timeout, every call restarts the wait when it arrives and when it is
 * answered, and a stopped job is never dropped. Node's mock timers stand in for the clock, so the
 * test checks the rule, not how fast a loaded machine runs.
 */
import assert from 'node:assert/strict'
import { afterEach, beforeEach, mock, test } from 'node:test'
import { CoordinatorSilence } from '../src/job/silence.ts'

beforeEach(() => mock.timers.enable({ apis: ['setTimeout'] }))
afterEach(() => mock.timers.reset())

function watched(timeoutMs: number) {
  const silent: string[] = []
  return { silent, silence: new CoordinatorSilence(timeoutMs, (job) => silent.push(job)) }
}

test('a job is dropped after the whole timeout without a word, not before', () => {
  const { silent, silence } = watched(2000)
  silence.heard('a')
  mock.timers.tick(1999)
  assert.deepEqual(silent, [])
  mock.timers.tick(1)
  assert.deepEqual(silent, ['a'])
  mock.timers.tick(10_000)
  assert.deepEqual(silent, ['a'], 'once')
})

test('each word from the coordinator restarts the wait', () => {
  const { silent, silence } = watched(2000)
  silence.heard('a')
  silence.heard('b')
  for (let k = 0; k < 5; k++) {
    mock.timers.tick(1500)
    silence.heard('a')
  }
  assert.deepEqual(silent, ['b'])
  mock.timers.tick(2000)
  assert.deepEqual(silent, ['b', 'a'])
})

test('a call restarts the wait when it arrives and when it is answered', async () => {
  const { silent, silence } = watched(2000)
  silence.heard('a')
  mock.timers.tick(1500)
  let answer = (_: number) => {}
  const call = silence.serving('a', () => new Promise<number>((resolve) => (answer = resolve)))
  mock.timers.tick(1500) // 3 s after the assignment, 1.5 s after the call
  assert.deepEqual(silent, [])
  answer(7)
  assert.equal(await call, 7)
  mock.timers.tick(1999)
  assert.deepEqual(silent, [], 'the answer restarted the wait')
  mock.timers.tick(1)
  assert.deepEqual(silent, ['a'])
})

test('a call that outlasts the timeout still ends in silence; ended() waits for it', async () => {
  const { silent, silence } = watched(2000)
  silence.heard('a')
  let fail = (_: Error) => {}
  const call = silence.serving('a', () => new Promise<void>((_, reject) => (fail = reject)))
  mock.timers.tick(2000)
  assert.deepEqual(silent, ['a'], 'a step hung on a lost peer does not keep the job')
  let ended = false
  const waiting = silence.ended('a').then(() => (ended = true))
  await Promise.resolve()
  assert.equal(ended, false)
  fail(new Error('aborted'))
  await assert.rejects(call, /aborted/)
  await waiting
  assert.equal(ended, true)
  mock.timers.tick(10_000)
  assert.deepEqual(silent, ['a'], 'a dropped job is not restarted by its last answer')
})

test('a stopped job and a stopped worker drop nothing', async () => {
  const { silent, silence } = watched(2000)
  silence.heard('a')
  silence.heard('b')
  silence.forget('a')
  await silence.serving('b', async () => {})
  silence.clear()
  mock.timers.tick(10_000)
  assert.deepEqual(silent, [])
})
