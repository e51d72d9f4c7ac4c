import { useState } from 'react';
import { formatPeersEntry, isDialableElsewhere } from '../api/peersEntry';
import { useApp } from '../store/StoreContext';
import { describeReachability } from '../text/reachability';
import { shortId } from '../text/format';
import type { NodeInfo } from '../api/types';
import { Card, Pill } from './ui';
import { Icon } from './Icon';

/** Whether others can connect to this node, in words, and the networks it joined. */
export function ReachabilityCard({ node }: { node: NodeInfo }) {
  const words = describeReachability(node);
  const networks = node.networks ?? [];
  return (
    <Card title="Reachability" icon="users" aside={<Pill tone={words.tone}>{words.tone === 'green' ? 'public' : words.tone === 'blue' ? 'relayed' : 'not yet'}</Pill>}>
      <p className="reach-title" data-testid="reachability">
        {words.title}
      </p>
      <p className="muted small">{words.detail}</p>
      {networks.length > 0 && (
        <ul className="network-list" data-testid="networks">
          {networks.map((n) => (
            <li key={n.name}>
              <span className="dot dot-green" />
              <span className="network-name">{n.name}</span>
              <span className="muted small">
                {n.bootstrap.length} bootstrap peer{n.bootstrap.length === 1 ? '' : 's'}, {(n.relays ?? []).length} relay{(n.relays ?? []).length === 1 ? '' : 's'}
              </span>
            </li>
          ))}
        </ul>
      )}
    </Card>
  );
}

/** Pasting a network file or an invite link joins that network. */
export function JoinNetworkCard() {
  const join = useApp((s) => s.networkJoin);
  const joinNetwork = useApp((s) => s.joinNetwork);
  const [text, setText] = useState('');
  const busy = join.state === 'joining';
  return (
    <Card title="Join a network" icon="node">
      <p className="muted small">
        A network's organiser gives you a network file (its name, bootstrap peers and relays) or an invite link starting with <span className="mono">canopy://network/</span>. Paste either here: this node connects to its peers and, behind NAT, takes a slot on its relays.
      </p>
      <textarea className="network-text mono" rows={4} value={text} placeholder={'canopy://network/…  or\nname: lab\nbootstrap:\n  - /ip4/203.0.113.7/tcp/4001/p2p/12D3KooW…'} aria-label="Network file or invite link" onChange={(e) => setText(e.target.value)} spellCheck={false} />
      <div className="network-actions">
        <button className="btn btn-primary" disabled={busy || text.trim() === ''} onClick={() => void joinNetwork(text).then((ok) => ok && setText(''))}>
          {busy ? 'Joining…' : 'Join network'}
        </button>
        {join.state === 'failed' && (
          <span className="error-text small" data-testid="join-error" role="alert">
            {join.message}
          </span>
        )}
        {join.state === 'joined' && (
          <span className="small" data-testid="join-done">
            <Icon name="check" size={14} /> {join.message}
          </span>
        )}
      </div>
    </Card>
  );
}

/** What the owner sends to a job's organiser: the manifest's `peers:` entry for this node. */
export function OrganiserCard({ node }: { node: NodeInfo }) {
  const [name, setName] = useState('');
  const [copied, setCopied] = useState(false);
  const member = name === '' ? `node-${node.peerId.slice(-6)}` : name;
  // The addresses others are told of (relay addresses included), else those it listens on.
  const addresses = node.reachability?.addresses.length ? node.reachability.addresses : node.addresses;
  const entry = formatPeersEntry(member, node.peerId, addresses);
  const dialable = addresses.some(isDialableElsewhere);
  const copy = () => {
    void navigator.clipboard?.writeText(entry).then(() => setCopied(true));
  };
  return (
    <Card title="For a job's organiser" icon="invitations">
      <p className="muted small">
        To take part in a job, send its organiser this entry for the manifest's <span className="mono">peers:</span> list, under the name the job gives you. The peer id ({shortId(node.peerId, 6)}) names this computer; the addresses are hints to reach it{dialable ? '' : ' (it has none another machine can dial yet: it takes part by connecting to the others itself, and becomes reachable through a relay once it holds a slot on one)'}.
      </p>
      <label className="organiser-name">
        <span className="muted small">Your name in the job</span>
        <input value={name} placeholder={member} aria-label="Your name in the job" onChange={(e) => setName(e.target.value.replace(/[^A-Za-z0-9._:@-]/g, ''))} />
      </label>
      <div className="peers-entry">
        <pre className="mono" data-testid="peers-entry">
          {entry}
        </pre>
        <button className="icon-btn" onClick={copy} title="Copy the peers: entry" aria-label="Copy the peers: entry">
          <Icon name={copied ? 'check' : 'copy'} size={15} />
        </button>
      </div>
    </Card>
  );
}
