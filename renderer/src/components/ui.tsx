import type { ReactNode } from 'react';
import { Icon, type IconName } from './Icon';

/** A titled panel on a screen. */
export function Card({ title, icon, aside, children, className }: { title?: string; icon?: IconName; aside?: ReactNode; children: ReactNode; className?: string }) {
  return (
    <section className={`card ${className ?? ''}`}>
      {(title !== undefined || aside !== undefined) && (
        <header className="card-head">
          <h2>
            {icon && <Icon name={icon} />} {title}
          </h2>
          {aside}
        </header>
      )}
      {children}
    </section>
  );
}

/** A screen's heading and one line saying what it is for. */
export function ScreenHeader({ title, subtitle, aside }: { title: string; subtitle: string; aside?: ReactNode }) {
  return (
    <header className="screen-head">
      <div>
        <h1>{title}</h1>
        <p>{subtitle}</p>
      </div>
      {aside}
    </header>
  );
}

/** What a screen shows when it has nothing yet, and what will fill it. */
export function EmptyState({ icon, title, children }: { icon: IconName; title: string; children: ReactNode }) {
  return (
    <div className="empty">
      <div className="empty-icon">
        <Icon name={icon} size={28} />
      </div>
      <h3>{title}</h3>
      <p>{children}</p>
    </div>
  );
}

/** A small coloured label. */
export function Pill({ tone, children }: { tone: 'green' | 'red' | 'amber' | 'blue' | 'gray'; children: ReactNode }) {
  return <span className={`pill pill-${tone}`}>{children}</span>;
}

/** An on/off switch with a label and a description. */
export function Toggle({ label, description, checked, onChange, disabled }: { label: string; description?: string; checked: boolean; onChange: (v: boolean) => void; disabled?: boolean }) {
  return (
    <label className="toggle-row">
      <span>
        <span className="toggle-label">{label}</span>
        {description && <span className="muted small">{description}</span>}
      </span>
      <input type="checkbox" role="switch" className="toggle" checked={checked} disabled={disabled} onChange={(e) => onChange(e.target.checked)} aria-label={label} />
    </label>
  );
}

/** A label and its value, in a definition grid. */
export function Field({ label, children, mono }: { label: string; children: ReactNode; mono?: boolean }) {
  return (
    <div className="field">
      <dt>{label}</dt>
      <dd className={mono ? 'mono' : undefined}>{children}</dd>
    </div>
  );
}
