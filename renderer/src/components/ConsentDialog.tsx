import { useEffect, useRef, useState } from 'react';
import { useApp } from '../store/StoreContext';
import type { ConsentPrompt, LocalDataset } from '../api/types';
import { formatBytes, shortId } from '../text/format';
import { Field, Pill } from './ui';
import { Icon } from './Icon';
import { LocalDatasetPicker } from './LocalDatasetPicker';

/**
 * The dialog that asks before any dataset download: it names the dataset, its size, hash,
 * distributor and purpose. The owner approves, declines, or trains on a dataset of their own.
 * It shows the oldest open question; the next one follows when this one is answered.
 */
export function ConsentDialog() {
  const prompt = useApp((s) => s.prompts[0]);
  const waiting = useApp((s) => s.prompts.length);
  if (!prompt) return null;
  return <ConsentDialogBody key={prompt.id} prompt={prompt} waiting={waiting} />;
}

function ConsentDialogBody({ prompt, waiting }: { prompt: ConsentPrompt; waiting: number }) {
  const decide = useApp((s) => s.decideConsent);
  const preview = useApp((s) => s.preview);
  const clearPreview = useApp((s) => s.clearPreview);
  const [local, setLocal] = useState(false);
  const [busy, setBusy] = useState(false);
  const approveRef = useRef<HTMLButtonElement>(null);
  const { request } = prompt;
  useEffect(() => approveRef.current?.focus(), []);
  const answer = async (approve: boolean, dataset?: LocalDataset) => {
    setBusy(true);
    await decide(prompt.id, approve, dataset);
    setBusy(false);
  };
  const localReady = preview?.data !== undefined && !preview.loading;
  return (
    <div className="modal-backdrop">
      <div className="modal" role="dialog" aria-modal="true" aria-labelledby="consent-title">
        <header className="modal-head">
          <div className="modal-icon">
            <Icon name="consent" size={22} />
          </div>
          <div>
            <h2 id="consent-title">Allow this dataset download?</h2>
            <p className="muted">
              Job <b>{request.job}</b> wants to give this node data to train on. Nothing is downloaded unless you approve.
            </p>
          </div>
          {waiting > 1 && <Pill tone="amber">{waiting - 1} more waiting</Pill>}
        </header>
        {!local ? (
          <dl className="fields consent-fields">
            <Field label="Dataset">{request.dataset.name}</Field>
            <Field label="Size">{request.dataset.size > 0 ? formatBytes(request.dataset.size) : 'announced by the distributor at download'}</Field>
            <Field label="SHA-256" mono>
              <span className="hash" data-testid="consent-hash">
                {request.dataset.hash}
              </span>
            </Field>
            <Field label="Distributor" mono>
              {request.dataset.distributor ? <span title={request.dataset.distributor}>{shortId(request.dataset.distributor, 10)}</span> : 'none: loaded on this machine'}
            </Field>
            <Field label="Purpose">{request.dataset.purpose}</Field>
            <Field label="Submitter" mono>
              <span title={request.submitter}>{shortId(request.submitter, 10)}</span>
            </Field>
          </dl>
        ) : (
          <LocalDatasetPicker />
        )}
        <footer className="modal-actions">
          {!local ? (
            <button className="btn btn-ghost" onClick={() => setLocal(true)} disabled={busy}>
              Use my own dataset…
            </button>
          ) : (
            <button
              className="btn btn-ghost"
              onClick={() => {
                setLocal(false);
                clearPreview();
              }}
              disabled={busy}
            >
              ← Back to the download
            </button>
          )}
          <span className="spacer" />
          <button className="btn btn-danger-ghost" onClick={() => void answer(false)} disabled={busy}>
            Decline
          </button>
          {!local ? (
            <button ref={approveRef} className="btn btn-primary" onClick={() => void answer(true)} disabled={busy}>
              Approve download
            </button>
          ) : (
            <button className="btn btn-primary" onClick={() => preview && void answer(true, preview.source)} disabled={busy || !localReady}>
              Approve with my dataset
            </button>
          )}
        </footer>
      </div>
    </div>
  );
}
