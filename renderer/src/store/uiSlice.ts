import type { Slice } from './sliceTypes';

/** The app's screens, in sidebar order. */
export const SCREENS = ['node', 'invitations', 'consent', 'training', 'outbox', 'logs'] as const;
export type Screen = (typeof SCREENS)[number];

/** The state of the link to the node. */
export type Connection = { state: 'connecting' } | { state: 'open' } | { state: 'closed'; reason: string } | { state: 'refused'; reason: string };

/** A message shown to the owner for a few seconds. */
export interface Notice {
  readonly id: number;
  readonly kind: 'error' | 'info';
  readonly text: string;
}

/** Navigation, connection state and notices. */
export interface UiSlice {
  screen: Screen;
  connection: Connection;
  notices: Notice[];
  go(screen: Screen): void;
  setConnection(c: Connection): void;
  notify(kind: Notice['kind'], text: string): void;
  dismiss(id: number): void;
  /** Runs an action; a failure becomes an error notice that starts with `what`. */
  guard(what: string, action: () => Promise<void>): Promise<void>;
}

let noticeId = 0;

/** Creates the UI slice. */
export const createUiSlice = (): Slice<UiSlice> => (set, get) => ({
  screen: 'node',
  connection: { state: 'connecting' },
  notices: [],
  go: (screen) => set({ screen }),
  setConnection: (connection) => set({ connection }),
  notify: (kind, text) => set((s) => ({ notices: [...s.notices.slice(-4), { id: ++noticeId, kind, text }] })),
  dismiss: (id) => set((s) => ({ notices: s.notices.filter((n) => n.id !== id) })),
  async guard(what, action) {
    try {
      await action();
    } catch (err) {
      get().notify('error', `${what}: ${err instanceof Error ? err.message : String(err)}`);
    }
  },
});
