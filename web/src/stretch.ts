// Before and after drawn from the clip COGs with ONE stretch: each displayed band is mapped
// from the same [min, max] on both dates (its 2nd and 98th percentiles over the valid pixels
// of both dates together), so that a change seen is a change on the ground, not of two
// stretches. True colour is red-green-blue; false colour puts NIR in red, red in green and
// green in blue, where the clip has those bands.
import { fromArrayBuffer } from 'geotiff';

export interface Raster {
  width: number;
  height: number;
  bands: ArrayLike<number>[];
  descs: string[]; // per band, e.g. "B04" (upper case), or "" when the file names none
  nodata: number | null;
  epsg: number | null; // the CRS of bbox, when the file gives it by EPSG code
  bbox: [number, number, number, number] | null; // minX, minY, maxX, maxY
}

export type Composite = 'true' | 'false';

// Band names by role: Sentinel-2, Landsat 8/9 and the pipeline's role names.
const roleNames: Record<string, string[]> = {
  red: ['B04', 'RED', 'SR_B4'],
  green: ['B03', 'GREEN', 'SR_B3'],
  blue: ['B02', 'BLUE', 'SR_B2'],
  nir: ['B08', 'NIR', 'SR_B5', 'B8'],
};

// decodeCOG reads every band of a GeoTIFF's full-resolution image with its descriptions.
export async function decodeCOG(buf: ArrayBuffer): Promise<Raster> {
  const tiff = await fromArrayBuffer(buf);
  const img = await tiff.getImage();
  const n = img.getSamplesPerPixel();
  const descs: string[] = [];
  for (let i = 0; i < n; i++) {
    const md = await img.getGDALMetadata(i).catch(() => null);
    descs.push(String((md && (md as Record<string, unknown>).DESCRIPTION) || '').trim().toUpperCase());
  }
  const rasters = await img.readRasters({ interleave: false });
  const bands = Array.from({ length: n }, (_, i) => (rasters as unknown as ArrayLike<number>[])[i]);
  const keys = (img.getGeoKeys() || {}) as Record<string, number>;
  const epsg = keys.ProjectedCSTypeGeoKey || keys.GeographicTypeGeoKey || null;
  let bbox: Raster['bbox'] = null;
  try {
    bbox = img.getBoundingBox() as Raster['bbox'];
  } catch {
    bbox = null; // not georeferenced: drawn without outlines
  }
  return { width: img.getWidth(), height: img.getHeight(), bands, descs, nodata: img.getGDALNoData(), epsg: epsg === 32767 ? null : epsg, bbox };
}

// bandsFor gives the (0-based) bands of a composite in display order R, G, B, or null when
// the raster lacks them. Without descriptions, a raster of three or four bands is taken as
// red, green, blue (a drone orthophoto), which has no false colour.
export function bandsFor(r: Raster, c: Composite): number[] | null {
  const find = (role: string) => r.descs.findIndex((d) => roleNames[role].includes(d));
  const [red, green, blue, nir] = ['red', 'green', 'blue', 'nir'].map(find);
  if (c === 'false') return nir >= 0 && red >= 0 && green >= 0 ? [nir, red, green] : null;
  if (red >= 0 && green >= 0 && blue >= 0) return [red, green, blue];
  if (r.descs.every((d) => d === '') && (r.bands.length === 3 || r.bands.length === 4)) return [0, 1, 2];
  return null;
}

// sharedStretch is, per displayed band, the [lo, hi] percentiles of that band's valid
// pixels (not nodata, not NaN) over all the rasters together.
export function sharedStretch(rs: Raster[], bands: number[][], lo = 0.02, hi = 0.98): [number, number][] {
  return [0, 1, 2].map((ch) => {
    const vals: number[] = [];
    rs.forEach((r, k) => {
      const b = r.bands[bands[k][ch]];
      for (let i = 0; i < b.length; i++) {
        const v = b[i];
        if (!Number.isNaN(v) && v !== r.nodata) vals.push(v);
      }
    });
    if (!vals.length) return [0, 1];
    vals.sort((a, b) => a - b);
    const at = (q: number) => vals[Math.min(vals.length - 1, Math.max(0, Math.round(q * (vals.length - 1))))];
    const min = at(lo);
    const max = at(hi);
    return [min, max > min ? max : min + 1];
  });
}

// paint draws bands of r into canvas with the given stretch; nodata pixels are transparent.
// Small clips are enlarged by whole pixels (no smoothing) so that outlines, rings of pixel
// coordinates of r, can be drawn finer than a pixel. The stretch is written on the canvas
// (data-stretch) for anyone to check.
export function paint(canvas: HTMLCanvasElement, r: Raster, bands: number[], stretch: [number, number][], outlines: [number, number][][] = []): void {
  const img = new ImageData(r.width, r.height);
  const px = img.data;
  const src = bands.map((b) => r.bands[b]);
  for (let i = 0; i < r.width * r.height; i++) {
    let valid = true;
    for (let ch = 0; ch < 3; ch++) {
      const v = src[ch][i];
      if (Number.isNaN(v) || v === r.nodata) valid = false;
      const [min, max] = stretch[ch];
      px[i * 4 + ch] = Math.max(0, Math.min(255, Math.round(((v - min) / (max - min)) * 255)));
    }
    px[i * 4 + 3] = valid ? 255 : 0;
  }
  const k = Math.max(1, Math.min(8, Math.ceil(480 / Math.max(r.width, r.height))));
  const native = document.createElement('canvas');
  native.width = r.width;
  native.height = r.height;
  native.getContext('2d')!.putImageData(img, 0, 0);
  canvas.width = r.width * k;
  canvas.height = r.height * k;
  const ctx = canvas.getContext('2d')!;
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(native, 0, 0, canvas.width, canvas.height);
  // Yellow on a dark edge: seen on green true colour and on red false colour alike.
  for (const [colour, width] of [['rgba(0,0,0,.7)', 4], ['#ffe14d', 2]] as const) {
    ctx.strokeStyle = colour;
    ctx.lineWidth = width;
    for (const ring of outlines) {
      ctx.beginPath();
      ring.forEach(([c, row], i) => (i ? ctx.lineTo(c * k, row * k) : ctx.moveTo(c * k, row * k)));
      ctx.closePath();
      ctx.stroke();
    }
  }
  canvas.dataset.stretch = stretch.map(([a, b]) => `${a}:${b}`).join(',');
  canvas.dataset.bands = bands.map((b) => r.descs[b] || String(b + 1)).join(',');
  canvas.dataset.outlines = String(outlines.length);
}

// pixelRings turns rings of map coordinates in r's CRS into r's pixel coordinates (column,
// row from the top-left corner), or [] when r is not georeferenced.
export function pixelRings(r: Raster, rings: [number, number][][]): [number, number][][] {
  if (!r.bbox) return [];
  const [x0, y0, x1, y1] = r.bbox;
  return rings.map((ring) => ring.map(([x, y]) => [((x - x0) / (x1 - x0)) * r.width, ((y1 - y) / (y1 - y0)) * r.height] as [number, number]));
}
