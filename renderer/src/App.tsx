import { useApp } from './store/StoreContext';
import { Sidebar } from './components/Sidebar';
import { ConsentDialog } from './components/ConsentDialog';
import { Notices } from './components/Notices';
import { NodeScreen } from './screens/NodeScreen';
import { InvitationsScreen } from './screens/InvitationsScreen';
import { ConsentScreen } from './screens/ConsentScreen';
import { TrainingScreen } from './screens/TrainingScreen';
import { OutboxScreen } from './screens/OutboxScreen';
import { LogsScreen } from './screens/LogsScreen';
import type { Screen } from './store/uiSlice';

const screens: Record<Screen, () => React.JSX.Element> = {
  node: NodeScreen,
  invitations: InvitationsScreen,
  consent: ConsentScreen,
  training: TrainingScreen,
  outbox: OutboxScreen,
  logs: LogsScreen,
};

/** The app shell: sidebar, the current screen, the consent dialog and notices. */
export function App() {
  const screen = useApp((s) => s.screen);
  const connection = useApp((s) => s.connection);
  const Current = screens[screen];
  return (
    <div className="app">
      <Sidebar />
      <main className="content" data-screen={screen}>
        {connection.state === 'closed' && <div className="banner banner-red">Lost the connection to the node: {connection.reason}. Reload to reconnect.</div>}
        <Current />
      </main>
      <ConsentDialog />
      <Notices />
    </div>
  );
}
