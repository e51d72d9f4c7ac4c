import { createStore } from 'zustand/vanilla';
import { subscribeWithSelector } from 'zustand/middleware';
import type { Api } from '../api/types';
import type { AppState } from './appState';
import type { SliceDeps } from './sliceTypes';
import { createNodeSlice } from './nodeSlice';
import { createInvitationsSlice } from './invitationsSlice';
import { createConsentSlice } from './consentSlice';
import { createTrainingSlice } from './trainingSlice';
import { createActivitySlice } from './activitySlice';
import { createUiSlice } from './uiSlice';

function buildStore(deps: SliceDeps) {
  return createStore<AppState>()(
    subscribeWithSelector((...a) => ({
      ...createNodeSlice(deps)(...a),
      ...createInvitationsSlice(deps)(...a),
      ...createConsentSlice(deps)(...a),
      ...createTrainingSlice()(...a),
      ...createActivitySlice()(...a),
      ...createUiSlice()(...a),
    })),
  );
}

/** The app store, usable without React (tests, bindings); `attach` gives it the API once connected. */
export type AppStore = ReturnType<typeof buildStore> & { attach(api: Api): void };

/** Builds the one store from its slices, with middleware applied only here at the root. */
export function createAppStore(api?: Api): AppStore {
  let current = api;
  const store = buildStore({ api: () => current });
  return Object.assign(store, { attach: (next: Api) => void (current = next) });
}
