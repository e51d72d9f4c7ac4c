import type { TrainingJob } from '../api/types';

const processNames = ['idle', 'training', 'aggregating', 'finished'];
const setupNames = ['assigned', 'job sheet', 'dataset', 'busy', 'submitted', 'finished'];

/** The path from the root job down to this node's job, with each job's stages (protocol section 1). */
export function StageTree({ stages }: { stages: TrainingJob['stages'] }) {
  if (stages.length === 0) return null;
  return (
    <ol className="stage-tree" aria-label="Job tree stages">
      {stages.map((s, depth) => (
        <li key={s.job} style={{ marginLeft: `${depth * 22}px` }}>
          <span className={`stage-node ps-${s.processStage}`} />
          <span className="mono">{s.job}</span>
          <span className="stage-chip">clients: {setupNames[s.clientStage] ?? s.clientStage}</span>
          <span className="stage-chip">workers: {setupNames[s.workerStage] ?? s.workerStage}</span>
          <span className={`stage-chip chip-ps-${s.processStage}`}>{processNames[s.processStage]}</span>
        </li>
      ))}
    </ol>
  );
}
