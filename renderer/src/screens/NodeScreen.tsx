import { useState } from 'react';
import { useApp } from '../store/StoreContext';
import { Card, EmptyState, Field, Pill, ScreenHeader, Toggle } from '../components/ui';
import { Icon } from '../components/Icon';
import { JoinNetworkCard, OrganiserCard, ReachabilityCard } from '../components/NetworkCards';
import { formatRate, shortId } from '../text/format';
import type { BackendChoice } from '../api/types';

const backendLabels: Record<BackendChoice, string> = {
  auto: 'Automatic (fastest available)',
  'tfjs-node-gpu': 'TensorFlow native, CUDA GPU',
  'tfjs-node': 'TensorFlow native, CPU',
  webgpu: 'WebGPU (hidden window)',
  webgl: 'WebGL (hidden window)',
  wasm: 'WebAssembly (SIMD)',
  cpu: 'Plain JavaScript CPU',
};

// Only the desktop app can tell when the owner uses the computer (Electron's powerMonitor, in
// main); a browser tab on `canopy node --ui` has no such API, so there the limit is kept but
// not applied. `window.api` exists only in the desktop app.
function idleOnlyDescription(): string {
  return window.api ? 'Pause training while you use this computer.' : 'Desktop app only: a browser cannot tell when you use this computer, so training is not paused here.';
}

/** Screen 1: who this node is, who it is connected to, what it offers and how much it lends. */
export function NodeScreen() {
  const node = useApp((s) => s.node);
  const setRoles = useApp((s) => s.setRoles);
  const setLimits = useApp((s) => s.setLimits);
  const pinBackend = useApp((s) => s.pinBackend);
  const [copied, setCopied] = useState(false);
  if (!node) return <EmptyState icon="node" title="Connecting to your node">The node is starting; this takes a few seconds.</EmptyState>;
  const { roles, limits, backend } = node;
  const copy = () => {
    void navigator.clipboard?.writeText(node.peerId).then(() => setCopied(true));
  };
  return (
    <>
      <ScreenHeader title="Node" subtitle="This machine's identity on the network, and what you lend to training." aside={node.pausedForOwner ? <Pill tone="amber">Paused: you are using this computer</Pill> : <Pill tone={node.running ? 'green' : 'gray'}>{node.running ? 'Online' : 'Stopped'}</Pill>} />
      <div className="grid-2">
        <Card title="Identity" icon="node">
          <dl className="fields">
            <Field label="Peer id" mono>
              <span className="peer-id" data-testid="peer-id">
                {node.peerId}
              </span>
              <button className="icon-btn" onClick={copy} title="Copy peer id" aria-label="Copy peer id">
                <Icon name={copied ? 'check' : 'copy'} size={15} />
              </button>
            </Field>
            <Field label="Listening on" mono>
              {node.addresses.length === 0 ? <span className="muted">no addresses yet</span> : node.addresses.map((a) => <div key={a}>{a}</div>)}
            </Field>
            <Field label="Version">{node.version}</Field>
          </dl>
        </Card>
        <ReachabilityCard node={node} />
        <OrganiserCard node={node} />
        <JoinNetworkCard />
        <Card title="Connected peers" icon="users" aside={<span className="count">{node.peers.length}</span>}>
          {node.peers.length === 0 ? (
            <p className="muted">No peers yet. Peers appear here when a job brings you together.</p>
          ) : (
            <ul className="peer-list">
              {node.peers.map((p) => (
                <li key={p.peerId}>
                  <span className="dot dot-green" />
                  <span className="mono" title={p.peerId}>
                    {shortId(p.peerId, 8)}
                  </span>
                  <span className="muted mono small">{p.addresses[0] ?? ''}</span>
                </li>
              ))}
            </ul>
          )}
        </Card>
        <Card title="Roles you offer" icon="users">
          <Toggle label="Client" description="Train models on data on this machine. Data never leaves it; only model updates do." checked={roles.client} onChange={(client) => void setRoles({ ...roles, client })} />
          <Toggle label="Worker" description="Aggregate the model updates other members send to a job." checked={roles.worker} onChange={(worker) => void setRoles({ ...roles, worker })} />
        </Card>
        <Card title="Limits" icon="cpu">
          <label className="toggle-row">
            <span>
              <span className="toggle-label">Threads</span>
              <span className="muted small">Compute threads training may use, from the node's next start.</span>
            </span>
            <input className="num" type="number" min={1} max={256} value={limits.threads} aria-label="Threads" onChange={(e) => Number(e.target.value) >= 1 && void setLimits({ ...limits, threads: Math.min(256, Math.floor(Number(e.target.value))) })} />
          </label>
          <Toggle label="Use the GPU" description="Train on a GPU when one is available." checked={limits.gpu} onChange={(gpu) => void setLimits({ ...limits, gpu })} />
          <Toggle label="Only while idle" description={idleOnlyDescription()} checked={limits.idleOnly} onChange={(idleOnly) => void setLimits({ ...limits, idleOnly })} />
        </Card>
      </div>
      <Card title="Training backend" icon="cpu" className="backend-card">
        <div className="backend-top">
          <div>
            <div className="muted small">Active</div>
            <div className="big" data-testid="active-backend">
              {backend.active}
            </div>
          </div>
          <div>
            <div className="muted small">Measured</div>
            {backend.samplesPerSec === undefined ? <div className="muted measured-none">after the first training round</div> : <div className="big">{`${formatRate(backend.samplesPerSec)} samples/s`}</div>}
          </div>
          <label className="pin">
            <span className="muted small">Pin a backend</span>
            <select value={backend.pinned} onChange={(e) => void pinBackend(e.target.value as BackendChoice)} aria-label="Pin a backend">
              {(Object.keys(backendLabels) as BackendChoice[]).map((b) => (
                <option key={b} value={b} disabled={b !== 'auto' && !backend.candidates.some((c) => c.name === b && c.available)}>
                  {backendLabels[b]}
                </option>
              ))}
            </select>
          </label>
        </div>
        {backend.reason && (
          <p className="muted small backend-reason" data-testid="backend-reason">
            {backend.reason}
          </p>
        )}
        <ul className="candidates">
          {backend.candidates.map((c) => (
            <li key={c.name}>
              <span className={`dot ${c.available ? 'dot-green' : 'dot-gray'}`} />
              <span>{backendLabels[c.name]}</span>
              <span className="muted small">{c.available ? (c.name === backend.active ? 'in use' : 'available') : (c.reason ?? 'not available')}</span>
            </li>
          ))}
        </ul>
      </Card>
    </>
  );
}
