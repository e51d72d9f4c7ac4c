// Stroke icons drawn for Canopy (24×24 grid, currentColor), so the app ships no icon font.

const paths = {
  node: 'M12 3v4m0 10v4M3 12h4m10 0h4M12 8a4 4 0 1 0 0 8 4 4 0 0 0 0-8Z',
  invitations: 'M4 6h16v12H4zM4 7l8 6 8-6',
  consent: 'M12 3l7 3v6c0 4.5-3 7.5-7 9-4-1.5-7-4.5-7-9V6l7-3Zm-3 9 2 2 4-4',
  training: 'M4 19V5m0 14h16M8 15l3-4 3 2 5-6',
  outbox: 'M12 15V3m0 0-4 4m4-4 4 4M4 14v5h16v-5',
  logs: 'M5 5h14M5 10h14M5 15h9M5 20h6',
  check: 'M5 12l4 4 10-10',
  x: 'M6 6l12 12M18 6 6 18',
  copy: 'M9 9h10v10H9zM5 15V5h10',
  cpu: 'M7 7h10v10H7zM9 3v4m6-4v4M9 17v4m6-4v4M3 9h4m-4 6h4m10-6h4m-4 6h4',
  users: 'M9 11a3 3 0 1 0 0-6 3 3 0 0 0 0 6Zm-6 9c0-3 3-5 6-5s6 2 6 5m1-9a3 3 0 1 0 0-6m2 15c0-2.5-1-4-3-5',
  database: 'M4 6c0-1.7 3.6-3 8-3s8 1.3 8 3-3.6 3-8 3-8-1.3-8-3Zm0 0v12c0 1.7 3.6 3 8 3s8-1.3 8-3V6M4 12c0 1.7 3.6 3 8 3s8-1.3 8-3',
} as const;

/** The names of the available icons. */
export type IconName = keyof typeof paths;

/** One icon, sized by the surrounding font. */
export function Icon({ name, size = 18 }: { name: IconName; size?: number }) {
  return (
    <svg className="icon" width={size} height={size} viewBox="0 0 24 24" fill="none" stroke="currentColor" strokeWidth={1.8} strokeLinecap="round" strokeLinejoin="round" aria-hidden="true">
      <path d={paths[name]} />
    </svg>
  );
}

/** Canopy's mark: a tree of three nodes under a crown. */
export function Logo({ size = 28 }: { size?: number }) {
  return (
    <svg width={size} height={size} viewBox="0 0 64 64" aria-hidden="true">
      <defs>
        <linearGradient id="canopy-g" x1="0" y1="0" x2="1" y2="1">
          <stop offset="0" stopColor="#34d399" />
          <stop offset="1" stopColor="#0f766e" />
        </linearGradient>
      </defs>
      <rect width="64" height="64" rx="16" fill="url(#canopy-g)" />
      <path d="M32 14c-9 0-16 6-16 13 0 5 4 9 9 10h14c5-1 9-5 9-10 0-7-7-13-16-13Z" fill="#ecfdf5" opacity="0.95" />
      <path d="M32 37v13M32 44l-8-7M32 44l8-7" stroke="#ecfdf5" strokeWidth="3.2" strokeLinecap="round" fill="none" />
      <circle cx="24" cy="27" r="3" fill="#0f766e" />
      <circle cx="32" cy="22" r="3" fill="#0f766e" />
      <circle cx="40" cy="27" r="3" fill="#0f766e" />
    </svg>
  );
}
