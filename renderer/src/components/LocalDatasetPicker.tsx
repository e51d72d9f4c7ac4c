import { useState } from 'react';
import { useApp } from '../store/StoreContext';
import type { LocalDataset } from '../api/types';
import { DatasetPreviewView } from './DatasetPreviewView';

type Kind = LocalDataset['kind'];

/** Lets the owner point at a dataset on this machine and preview it before approving. */
export function LocalDatasetPicker() {
  const preview = useApp((s) => s.preview);
  const load = useApp((s) => s.loadPreview);
  const [kind, setKind] = useState<Kind>('mnist');
  const [path, setPath] = useState('/usr/share/datasets/fashion-mnist');
  const [labelColumn, setLabelColumn] = useState('label');
  const source = (): LocalDataset => (kind === 'mnist' ? { kind, testFraction: 0.2 } : kind === 'fashion-mnist' ? { kind, path } : { kind, path, labelColumn, testFraction: 0.2 });
  return (
    <div className="picker">
      <div className="picker-form">
        <label>
          <span className="muted small">Format</span>
          <select value={kind} onChange={(e) => setKind(e.target.value as Kind)} aria-label="Dataset format">
            <option value="mnist">MNIST digits (bundled sample)</option>
            <option value="fashion-mnist">Fashion-MNIST folder (IDX files)</option>
            <option value="csv">CSV table</option>
          </select>
        </label>
        {kind !== 'mnist' && (
          <label className="grow">
            <span className="muted small">{kind === 'csv' ? 'CSV file' : 'Folder'}</span>
            <input value={path} onChange={(e) => setPath(e.target.value)} aria-label="Dataset path" spellCheck={false} />
          </label>
        )}
        {kind === 'csv' && (
          <label>
            <span className="muted small">Label column</span>
            <input value={labelColumn} onChange={(e) => setLabelColumn(e.target.value)} aria-label="Label column" />
          </label>
        )}
        <button className="btn" onClick={() => void load(source())} disabled={preview?.loading}>
          {preview?.loading ? 'Reading…' : 'Preview'}
        </button>
      </div>
      {preview?.error && <p className="error-text">{preview.error}</p>}
      {preview?.data && <DatasetPreviewView preview={preview.data} />}
      {!preview && <p className="muted">Preview your dataset to see its labels and a few samples before you approve it.</p>}
    </div>
  );
}
