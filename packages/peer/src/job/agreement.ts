/**
 * Whether a stage's replicas applied the same gradient means in a step (S-SGD). A replica left out of
 * a round takes the round's outcome from a member that took part; when none tells it, it steps on its
 * own gradient and would drift from the others for good. The coordinator sees every replica's rounds
 * before it commits, so it can close what the collectives cannot: it drops the step and runs it again.
 */

/** A gradient round as a replica saw it: whose gradients made the mean it applied ([] when none came). */
export interface GradientRound {
  round: number
  contributors: string[]
}

/** One replica's view of a step's gradient rounds. */
export interface ReplicaView {
  peer: string
  stage: number
  rounds: readonly GradientRound[]
}

/**
 * The replicas whose view differs from the one most of their stage hold (the first such on a tie),
 * or that applied no mean at all (left out, and no member told them the outcome); none when a stage's
 * replicas agree.
 */
export function disagreeing(views: readonly ReplicaView[]): string[] {
  const counts = new Map<number, Map<string, number>>()
  for (const view of views) {
    if (!applied(view)) continue
    const stage = counts.get(view.stage) ?? new Map<string, number>()
    counts.set(view.stage, stage)
    const key = keyOf(view.rounds)
    stage.set(key, (stage.get(key) ?? 0) + 1)
  }
  const held = (stage: number) => {
    let best: [string, number] | undefined
    for (const entry of counts.get(stage) ?? []) if (best === undefined || entry[1] > best[1]) best = entry
    return best?.[0]
  }
  return views.filter((v) => !applied(v) || keyOf(v.rounds) !== held(v.stage)).map((v) => v.peer)
}

function applied(view: ReplicaView): boolean {
  return view.rounds.every((r) => r.contributors.length > 0)
}

function keyOf(rounds: readonly GradientRound[]): string {
  return rounds.map((r) => `${r.round}:${r.contributors.join(',')}`).join(';')
}
