import { useShallow } from 'zustand/react/shallow';
import { useApp } from '../store/StoreContext';
import { sortInvitations } from '../store/invitationsSlice';
import { Card, EmptyState, Field, Pill, ScreenHeader } from '../components/ui';
import type { Invitation } from '../api/types';
import { describeDataset, describeModel, describePrivacy } from '../text/describe';
import { shortId } from '../text/format';

/** Screen 2: job sheets offered to this node, to accept or decline. */
export function InvitationsScreen() {
  const invitations = useApp(useShallow((s) => sortInvitations(Object.values(s.invitations))));
  return (
    <>
      <ScreenHeader title="Invitations" subtitle="Jobs that want this node as a client or worker. Nothing runs until you accept." />
      {invitations.length === 0 ? (
        <EmptyState icon="invitations" title="No invitations yet">
          When someone submits a job that names this node, its job sheet appears here for you to accept or decline.
        </EmptyState>
      ) : (
        <div className="stack">
          {invitations.map((inv) => (
            <InvitationCard key={inv.id} inv={inv} />
          ))}
        </div>
      )}
    </>
  );
}

function InvitationCard({ inv }: { inv: Invitation }) {
  const respond = useApp((s) => s.respondInvitation);
  const status = inv.status === 'pending' ? <Pill tone="amber">Waiting for you</Pill> : inv.status === 'accepted' ? <Pill tone="green">Accepted</Pill> : <Pill tone="gray">Declined</Pill>;
  return (
    <Card className="invitation" aside={status}>
      <div className="inv-head">
        <div>
          <h3>{inv.job}</h3>
          {inv.description && <p className="muted">{inv.description}</p>}
        </div>
        <Pill tone={inv.role === 'client' ? 'blue' : 'green'}>{inv.role === 'client' ? 'Client: trains on your data' : 'Worker: aggregates updates'}</Pill>
      </div>
      <dl className="fields fields-3">
        <Field label="Submitter" mono>
          <span title={inv.submitter}>{shortId(inv.submitter, 10)}</span>
        </Field>
        <Field label="Model">{describeModel(inv.model)}</Field>
        <Field label="Rounds">
          {inv.rounds}
          {inv.targetAccuracy !== undefined && <span className="muted"> (or until {Math.round(inv.targetAccuracy * 100)}% accuracy)</span>}
        </Field>
        <Field label="Data it wants">{describeDataset(inv.dataset)}</Field>
        <Field label="Distributor" mono>
          {inv.dataset.distributor ? <span title={inv.dataset.distributor}>{shortId(inv.dataset.distributor, 10)}</span> : <span className="muted">none: data is loaded locally</span>}
        </Field>
        <Field label="Differential privacy">{describePrivacy(inv.privacy).dp}</Field>
        <Field label="Secure aggregation">{describePrivacy(inv.privacy).secureAggregation}</Field>
        <Field label="Job">{inv.rootId}</Field>
      </dl>
      {inv.status === 'pending' && (
        <div className="actions">
          <button className="btn" onClick={() => void respond(inv.id, false)}>
            Decline
          </button>
          <button className="btn btn-primary" onClick={() => void respond(inv.id, true)}>
            Accept as {inv.role}
          </button>
        </div>
      )}
    </Card>
  );
}
