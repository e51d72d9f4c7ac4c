import { useApp } from '../store/StoreContext';
import { SCREENS, type Screen } from '../store/uiSlice';
import { Icon, Logo } from './Icon';
import { shortId } from '../text/format';

const labels: Record<Screen, string> = { node: 'Node', invitations: 'Invitations', consent: 'Consent', training: 'Training', outbox: 'Outbox', logs: 'Logs' };

/** The app's navigation, with counts of what waits for the owner and the link's state. */
export function Sidebar() {
  const screen = useApp((s) => s.screen);
  const go = useApp((s) => s.go);
  const pendingInvitations = useApp((s) => Object.values(s.invitations).filter((i) => i.status === 'pending').length);
  const pendingConsents = useApp((s) => s.prompts.length);
  const activeJobs = useApp((s) => Object.values(s.jobs).filter((j) => j.status !== 'finished' && j.status !== 'withdrawn' && j.status !== 'failed').length);
  const peerId = useApp((s) => s.node?.peerId);
  const connection = useApp((s) => s.connection.state);
  const badges: Partial<Record<Screen, number>> = { invitations: pendingInvitations, consent: pendingConsents, training: activeJobs };
  return (
    <nav className="sidebar" aria-label="Screens">
      <div className="brand">
        <Logo />
        <div>
          <div className="brand-name">Canopy</div>
          <div className="brand-sub">federated learning</div>
        </div>
      </div>
      <ul>
        {SCREENS.map((s) => (
          <li key={s}>
            <button className={`nav ${s === screen ? 'active' : ''}`} onClick={() => go(s)} aria-current={s === screen ? 'page' : undefined} data-screen={s}>
              <Icon name={s} />
              <span>{labels[s]}</span>
              {(badges[s] ?? 0) > 0 && <span className={`badge ${s === 'training' ? 'badge-soft' : ''}`}>{badges[s]}</span>}
            </button>
          </li>
        ))}
      </ul>
      <div className="sidebar-foot">
        <span className={`dot ${connection === 'open' ? 'dot-green' : connection === 'connecting' ? 'dot-amber' : 'dot-red'}`} />
        <div>
          <div className="small">{connection === 'open' ? 'Connected to node' : connection === 'connecting' ? 'Connecting…' : 'Disconnected'}</div>
          {peerId && <div className="muted mono small">{shortId(peerId, 6)}</div>}
        </div>
      </div>
    </nav>
  );
}
