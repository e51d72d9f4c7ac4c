import { useEffect, useRef } from 'react';
import type { DatasetPreview } from '../api/types';
import { formatRate } from '../text/format';

/** A local dataset's label histogram and sample images. */
export function DatasetPreviewView({ preview }: { preview: DatasetPreview }) {
  const max = Math.max(1, ...preview.histogram);
  return (
    <div className="preview" data-testid="dataset-preview">
      <p>
        <b>{preview.name}</b> · {formatRate(preview.samples)} samples · {preview.classes} classes
      </p>
      <div className="histogram" role="img" aria-label="Samples per label">
        {preview.histogram.map((n, label) => (
          <div key={label} className="bar-col" title={`label ${label}: ${n} samples`}>
            <div className="bar" style={{ height: `${(n / max) * 100}%` }} />
            <span>{label}</span>
          </div>
        ))}
      </div>
      {preview.images.length > 0 && (
        <div className="samples">
          {preview.images.map((img, i) => (
            <SampleImage key={i} {...img} />
          ))}
        </div>
      )}
    </div>
  );
}

function SampleImage({ label, width, height, pixels }: DatasetPreview['images'][number]) {
  const ref = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const ctx = ref.current?.getContext('2d');
    if (!ctx) return;
    const gray = Uint8Array.from(atob(pixels), (c) => c.charCodeAt(0));
    const rgba = ctx.createImageData(width, height);
    for (let p = 0; p < gray.length; p++) {
      // Ink dark on paper, as people draw digits, rather than MNIST's white on black.
      const v = 255 - gray[p]!;
      rgba.data.set([v, v, v, 255], p * 4);
    }
    ctx.putImageData(rgba, 0, 0);
  }, [pixels, width, height]);
  return (
    <figure className="sample">
      <canvas ref={ref} width={width} height={height} />
      <figcaption>{label}</figcaption>
    </figure>
  );
}
