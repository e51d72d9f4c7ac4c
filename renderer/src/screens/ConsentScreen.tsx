import { useApp } from '../store/StoreContext';
import { isStandingApproval } from '../store/consentSlice';
import { Card, EmptyState, Pill, ScreenHeader } from '../components/ui';
import { formatBytes, formatTime, shortId } from '../text/format';
import type { Receipt } from '../api/types';

const tones = { approved: 'green', refused: 'red', revoked: 'gray' } as const;

/** Screen 3: open consent questions and the receipts of every decision, revocable. */
export function ConsentScreen() {
  const prompts = useApp((s) => s.prompts);
  const receipts = useApp((s) => s.receipts);
  const revoke = useApp((s) => s.revokeReceipt);
  return (
    <>
      <ScreenHeader title="Consent" subtitle="Every dataset decision is recorded on this machine. Revoking an approval withdraws this node from its job: it stops training and sending." />
      {prompts.length > 0 && (
        <Card title="Waiting for your answer" icon="consent">
          <p className="muted">
            {prompts.length === 1 ? 'A job is' : `${prompts.length} jobs are`} waiting for your consent; the dialog is open.
          </p>
        </Card>
      )}
      <Card title="Receipts" icon="consent" aside={<span className="count">{receipts.length}</span>}>
        {receipts.length === 0 ? (
          <EmptyState icon="consent" title="No decisions yet">
            When a job asks to download a dataset to this machine, your answer is kept here as a receipt.
          </EmptyState>
        ) : (
          <table className="table">
            <thead>
              <tr>
                <th>When</th>
                <th>Job</th>
                <th>Dataset</th>
                <th>Decision</th>
                <th>Reason</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {[...receipts].reverse().map((r) => (
                <ReceiptRow key={r.id} r={r} standing={isStandingApproval(receipts, r)} onRevoke={() => void revoke(r.id)} />
              ))}
            </tbody>
          </table>
        )}
      </Card>
    </>
  );
}

function ReceiptRow({ r, standing, onRevoke }: { r: Receipt; standing: boolean; onRevoke: () => void }) {
  return (
    <tr data-testid="receipt">
      <td className="nowrap">{formatTime(r.at)}</td>
      <td>{r.request.job}</td>
      <td>
        {r.request.dataset.name} <span className="muted mono small" title={r.request.dataset.hash}>{shortId(r.request.dataset.hash, 6)}</span>
        {r.request.dataset.size > 0 && <div className="muted small">{formatBytes(r.request.dataset.size)}</div>}
      </td>
      <td>
        <Pill tone={tones[r.decision]}>{r.decision}</Pill> <span className="muted small">by {r.by}</span>
      </td>
      <td className="muted small">{r.reason}</td>
      <td>
        {standing && (
          <button className="btn btn-small btn-danger-ghost" onClick={onRevoke}>
            Revoke
          </button>
        )}
      </td>
    </tr>
  );
}
