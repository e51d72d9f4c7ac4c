import { useEffect } from 'react';
import { useApp } from '../store/StoreContext';
import type { Notice } from '../store/uiSlice';

/** Transient messages in the corner; errors stay until dismissed, others fade after 5 s. */
export function Notices() {
  const notices = useApp((s) => s.notices);
  return (
    <div className="notices" aria-live="polite">
      {notices.map((n) => (
        <NoticeItem key={n.id} notice={n} />
      ))}
    </div>
  );
}

function NoticeItem({ notice }: { notice: Notice }) {
  const dismiss = useApp((s) => s.dismiss);
  useEffect(() => {
    if (notice.kind === 'error') return;
    const t = setTimeout(() => dismiss(notice.id), 5000);
    return () => clearTimeout(t);
  }, [notice, dismiss]);
  return (
    <div className={`notice notice-${notice.kind}`} role={notice.kind === 'error' ? 'alert' : 'status'}>
      <span>{notice.text}</span>
      <button className="icon-btn" onClick={() => dismiss(notice.id)} aria-label="Dismiss">
        ×
      </button>
    </div>
  );
}
