/**
 * Every NATS name a cluster uses, derived from one prefix (NATS_PREFIX; tests use one per run).
 * Stream names cannot contain '.', so the prefix is a single token.
 */
export interface Subjects {
  prefix: string;
  dispatch(queue: string): string;
  dispatchWildcard: string;
  claims: string;
  reports: string;
  heartbeats: string;
  cancels: string;
  finished: string;
  leaderEvents: string;
  capacityEvents: string;
  dispatchStream: string;
  reportsStream: string;
  dispatchConsumer(queue: string): string;
  reportsConsumer: string;
}

export function subjectsFor(prefix: string): Subjects {
  return {
    prefix,
    dispatch: (queue) => `${prefix}.dispatch.${queue}`,
    dispatchWildcard: `${prefix}.dispatch.>`,
    claims: `${prefix}.claims`,
    reports: `${prefix}.reports`,
    heartbeats: `${prefix}.heartbeats`,
    cancels: `${prefix}.cancels`,
    finished: `${prefix}.events.finished`,
    leaderEvents: `${prefix}.events.leader`,
    capacityEvents: `${prefix}.events.capacity`,
    dispatchStream: `${prefix}_dispatch`,
    reportsStream: `${prefix}_reports`,
    dispatchConsumer: (queue) => `dispatch-${queue}`,
    reportsConsumer: "reports",
  };
}
