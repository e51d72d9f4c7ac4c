import { useMemo, useState } from 'react';
import { useApp } from '../store/StoreContext';
import { EmptyState, ScreenHeader } from '../components/ui';
import { formatTime } from '../text/format';
import type { LogEntry } from '../api/types';

const levels: LogEntry['level'][] = ['debug', 'info', 'warn', 'error'];

/** Screen 6: the node's structured log, filterable by level and text. */
export function LogsScreen() {
  const logs = useApp((s) => s.logs);
  const [min, setMin] = useState<LogEntry['level']>('info');
  const [q, setQ] = useState('');
  const shown = useMemo(() => {
    const floor = levels.indexOf(min);
    const needle = q.trim().toLowerCase();
    return logs.filter((l) => levels.indexOf(l.level) >= floor && (needle === '' || `${l.msg} ${JSON.stringify(l.fields)}`.toLowerCase().includes(needle))).slice(-1000).reverse();
  }, [logs, min, q]);
  return (
    <>
      <ScreenHeader
        title="Logs"
        subtitle="What the node is doing, newest first."
        aside={
          <div className="filters">
            <input placeholder="Filter…" value={q} onChange={(e) => setQ(e.target.value)} aria-label="Filter logs" />
            <select value={min} onChange={(e) => setMin(e.target.value as LogEntry['level'])} aria-label="Minimum level">
              {levels.map((l) => (
                <option key={l} value={l}>
                  {l} and above
                </option>
              ))}
            </select>
          </div>
        }
      />
      {shown.length === 0 ? (
        <EmptyState icon="logs" title={logs.length === 0 ? 'No log lines yet' : 'No line matches'}>
          {logs.length === 0 ? 'The node logs what it does here: jobs joined, rounds, consent decisions.' : 'Try a lower level or another filter.'}
        </EmptyState>
      ) : (
        <div className="log-view" role="log">
          {shown.map((l) => (
            <div key={l.seq} className={`log-line lvl-${l.level}`}>
              <span className="log-time">{formatTime(l.at)}</span>
              <span className="log-level">{l.level}</span>
              <span className="log-msg">{l.msg}</span>
              <span className="log-fields">
                {Object.entries(l.fields)
                  .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
                  .join(' ')}
              </span>
            </div>
          ))}
        </div>
      )}
    </>
  );
}
