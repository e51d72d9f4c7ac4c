import type { BatchProgress, MetricPoint, TrainingJob } from '../api/types';
import type { Slice } from './sliceTypes';

/** The key of one job on the Training screen. */
export function jobKey(j: { rootId: string; job: string }): string {
  return `${j.rootId}/${j.job}`;
}

const over = new Set<TrainingJob['status']>(['finished', 'withdrawn', 'failed']);

/** The order of the Training screen: jobs still running first, then the rest; newest first in each. */
export function orderJobs(jobs: readonly TrainingJob[]): TrainingJob[] {
  const newestFirst = [...jobs].reverse();
  return [...newestFirst.filter((j) => !over.has(j.status)), ...newestFirst.filter((j) => over.has(j.status))];
}

/** Jobs this node takes part in, their round metrics, and the latest batch progress. */
export interface TrainingSlice {
  /** By `${rootId}/${job}/${role}`. */
  jobs: Record<string, TrainingJob>;
  /** By jobKey, ordered by round. */
  metrics: Record<string, MetricPoint[]>;
  /** By jobKey: only the newest, since progress arrives many times a second. */
  progress: Record<string, BatchProgress>;
  upsertJob(job: TrainingJob): void;
  addMetrics(points: readonly MetricPoint[]): void;
  setProgress(latest: readonly BatchProgress[]): void;
}

/** Creates the training slice. */
export const createTrainingSlice = (): Slice<TrainingSlice> => (set) => ({
  jobs: {},
  metrics: {},
  progress: {},
  upsertJob: (job) => set((s) => ({ jobs: { ...s.jobs, [`${job.rootId}/${job.job}/${job.role}`]: job } })),
  addMetrics: (points) =>
    set((s) => {
      if (points.length === 0) return s;
      const metrics = { ...s.metrics };
      for (const p of points) {
        const key = jobKey(p);
        // A round reported twice (a restarted host) replaces the earlier point.
        const list = (metrics[key] ?? []).filter((m) => m.round !== p.round);
        list.push(p);
        list.sort((a, b) => a.round - b.round);
        metrics[key] = list;
      }
      return { metrics };
    }),
  setProgress: (latest) =>
    set((s) => {
      if (latest.length === 0) return s;
      const progress = { ...s.progress };
      for (const p of latest) progress[jobKey(p)] = p;
      return { progress };
    }),
});
