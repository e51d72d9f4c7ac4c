import { useState } from 'react';
import { Logo } from './Icon';

/**
 * Shown in a browser when there is no token or the node refused it: asks for the link or
 * token that `canopy node --ui` printed.
 */
export function ConnectScreen({ reason, onToken }: { reason?: string; onToken: (token: string) => void }) {
  const [value, setValue] = useState('');
  const submit = () => {
    const m = /token=([0-9a-zA-Z_-]+)/.exec(value);
    onToken((m?.[1] ?? value).trim());
  };
  return (
    <div className="connect">
      <div className="connect-card">
        <Logo size={48} />
        <h1>Connect to your Canopy node</h1>
        <p className="muted">Paste the link or the access token that <code>canopy node --ui</code> printed when it started.</p>
        {reason && (
          <p className="error-text" role="alert" data-testid="connect-error">
            {reason}
          </p>
        )}
        <form
          onSubmit={(e) => {
            e.preventDefault();
            submit();
          }}
        >
          <input value={value} onChange={(e) => setValue(e.target.value)} placeholder="http://127.0.0.1:…/#token=…" aria-label="Access token" spellCheck={false} autoFocus />
          <button className="btn btn-primary" type="submit" disabled={value.trim() === ''}>
            Connect
          </button>
        </form>
      </div>
    </div>
  );
}
