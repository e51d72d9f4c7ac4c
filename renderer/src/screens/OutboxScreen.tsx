import { useMemo } from 'react';
import { useApp } from '../store/StoreContext';
import { bytesByRound } from '../store/activitySlice';
import { Card, EmptyState, Pill, ScreenHeader } from '../components/ui';
import { formatBytes, formatTime, shortId } from '../text/format';

/** Screen 5: everything that left this machine, round by round: bytes, blob hashes, recipients. */
export function OutboxScreen() {
  const outbox = useApp((s) => s.outbox);
  const rounds = useMemo(() => bytesByRound(outbox), [outbox]);
  const total = rounds.reduce((a, r) => a + r.bytes, 0);
  return (
    <>
      <ScreenHeader title="Outbox" subtitle="What left this machine. Your raw data never does: only model parameters and protocol messages." aside={<span className="big">{formatBytes(total)} sent</span>} />
      {outbox.length === 0 ? (
        <EmptyState icon="outbox" title="Nothing has left this machine">
          Model updates and protocol messages this node sends are listed here, with their size, hashes and recipients.
        </EmptyState>
      ) : (
        <>
          <div className="round-strip">
            {rounds.map((r) => (
              <div key={r.round} className="round-cell">
                <div className="muted small">round {r.round}</div>
                <div>{formatBytes(r.bytes)}</div>
                <div className="muted small">{r.items} items</div>
              </div>
            ))}
          </div>
          <Card>
            <table className="table">
              <thead>
                <tr>
                  <th>When</th>
                  <th>Round</th>
                  <th>Job</th>
                  <th>What</th>
                  <th className="num-col">Bytes</th>
                  <th>Blob hashes</th>
                  <th>Recipients</th>
                </tr>
              </thead>
              <tbody>
                {[...outbox].reverse().slice(0, 500).map((e) => (
                  <tr key={e.id} data-testid="outbox-row">
                    <td className="nowrap">{formatTime(e.at)}</td>
                    <td>{e.round}</td>
                    <td>{e.job}</td>
                    <td>
                      <Pill tone={e.kind === 'parameters' || e.kind === 'aggregate' ? 'blue' : 'gray'}>{e.kind}</Pill>
                    </td>
                    <td className="num-col">{formatBytes(e.bytes)}</td>
                    <td className="mono small">
                      {e.hashes.length === 0 ? '—' : e.hashes.map((h) => (
                        <div key={h} title={h}>
                          {shortId(h, 8)}
                        </div>
                      ))}
                    </td>
                    <td className="mono small">{e.recipients.length <= 2 ? e.recipients.map((r) => shortId(r, 6)).join(', ') : `${e.recipients.length} peers`}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </Card>
        </>
      )}
    </>
  );
}
