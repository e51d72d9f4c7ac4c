import { useShallow } from 'zustand/react/shallow';
import { useApp } from '../store/StoreContext';
import { jobKey, orderJobs } from '../store/trainingSlice';
import { Card, EmptyState, Pill, ScreenHeader } from '../components/ui';
import { LineChart } from '../charts/LineChart';
import { StageTree } from '../components/StageTree';
import { formatPercent, formatRate } from '../text/format';
import type { TrainingJob } from '../api/types';

const statusTone: Record<TrainingJob['status'], 'green' | 'amber' | 'blue' | 'gray' | 'red'> = {
  joining: 'gray',
  'waiting-consent': 'amber',
  'loading-data': 'blue',
  waiting: 'gray',
  training: 'blue',
  submitted: 'blue',
  aggregating: 'blue',
  finished: 'green',
  withdrawn: 'gray',
  failed: 'red',
};

/** Screen 4: each job's stages, round, local progress, loss and accuracy, and the backend. */
export function TrainingScreen() {
  const jobs = useApp(useShallow((s) => orderJobs(Object.values(s.jobs).filter((j) => j.role === 'client' || j.role === 'worker'))));
  return (
    <>
      <ScreenHeader title="Training" subtitle="The jobs this node takes part in, round by round." />
      {jobs.length === 0 ? (
        <EmptyState icon="training" title="Not training yet">
          Accept an invitation and approve its dataset; the job's rounds, progress and charts appear here.
        </EmptyState>
      ) : (
        <div className="stack">
          {jobs.map((j) => (
            <JobPanel key={`${jobKey(j)}/${j.role}`} job={j} />
          ))}
        </div>
      )}
    </>
  );
}

function JobPanel({ job }: { job: TrainingJob }) {
  const key = jobKey(job);
  const metrics = useApp((s) => s.metrics[key]);
  const progress = useApp((s) => s.progress[key]);
  const backend = useApp((s) => s.node?.backend);
  const points = metrics ?? [];
  const last = points.at(-1);
  const fraction = progress && progress.batches > 0 ? (progress.epoch * progress.batches + progress.batch) / (Math.max(1, progress.epochs) * progress.batches) : 0;
  return (
    <Card className="job-panel" aside={<Pill tone={statusTone[job.status]}>{job.status.replace('-', ' ')}</Pill>}>
      <div className="job-head">
        <div>
          <h3>{job.job}</h3>
          <p className="muted small">
            {job.rootId} · you are a {job.role}
            {job.reason ? ` · ${job.reason}` : ''}
          </p>
        </div>
        <div className="kpis">
          <Kpi label="Round" value={`${job.round} / ${job.rounds}`} testId="round" />
          <Kpi label="Accuracy" value={last ? formatPercent(last.accuracy) : '—'} sub={last ? `test, round ${last.round}` : undefined} testId="accuracy" />
          <Kpi label="Loss" value={last ? last.loss.toFixed(3) : '—'} />
          <Kpi label="Backend" value={backend?.active ?? '—'} sub={progress ? `${formatRate(progress.samplesPerSec)} samples/s` : backend?.samplesPerSec ? `${formatRate(backend.samplesPerSec)} samples/s` : undefined} />
        </div>
      </div>
      <StageTree stages={job.stages} />
      {job.role === 'client' && (
        <div className="progress-block">
          <div className="progress-label">
            <span>Local training{progress ? `, round ${progress.round}` : ''}</span>
            <span className="muted small">{progress ? `epoch ${progress.epoch + 1}/${progress.epochs} · batch ${progress.batch}/${progress.batches}` : 'idle'}</span>
          </div>
          <div className="progress" role="progressbar" aria-valuemin={0} aria-valuemax={100} aria-valuenow={Math.round(fraction * 100)}>
            {/* Keyed by round: a new round starts an empty bar instead of animating backwards. */}
            <div key={progress?.round ?? 0} style={{ width: `${Math.min(100, fraction * 100)}%` }} />
          </div>
        </div>
      )}
      <div className="grid-2 charts">
        <LineChart title="Accuracy" series={[{ name: 'test accuracy', color: '#0f766e', points: points.map((m) => ({ x: m.round, y: m.accuracy })) }]} yFormat={(v) => `${Math.round(v * 100)}%`} yMin={0} yMax={1} />
        <LineChart title="Loss" series={[{ name: 'test loss', color: '#6366f1', points: points.map((m) => ({ x: m.round, y: m.loss })) }]} yMin={0} />
      </div>
    </Card>
  );
}

function Kpi({ label, value, sub, testId }: { label: string; value: string; sub?: string | undefined; testId?: string }) {
  return (
    <div className="kpi">
      <div className="muted small">{label}</div>
      <div className="kpi-value" data-testid={testId}>
        {value}
      </div>
      {sub && <div className="muted small">{sub}</div>}
    </div>
  );
}
