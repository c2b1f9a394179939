// Where a GeoTIFF lies: its size, CRS (EPSG code) and extent, read from the header of the
// file (first IFD and GeoKeys) without decoding pixels. The quick-look PNG of a clip is drawn
// on the clip COG's grid, so the COG's header places the PNG on the map.

export interface GeoRef {
  width: number;
  height: number;
  epsg: number;
  extent: [number, number, number, number]; // minX, minY, maxX, maxY in the CRS of epsg
}

// NeedBytes asks the caller for more of the file: at least the first `end` bytes.
export class NeedBytes extends Error {
  constructor(readonly end: number) {
    super(`geotiff: header needs the first ${end} bytes`);
  }
}

const TAG_WIDTH = 256;
const TAG_HEIGHT = 257;
const TAG_PIXEL_SCALE = 33550;
const TAG_TIEPOINT = 33922;
const TAG_TRANSFORMATION = 34264;
const TAG_GEOKEYS = 34735;

const KEY_RASTER_TYPE = 1025; // 1 PixelIsArea, 2 PixelIsPoint
const KEY_GEOGRAPHIC_TYPE = 2048;
const KEY_PROJECTED_TYPE = 3072;

// Byte sizes of the TIFF field types we may meet.
const typeSize: Record<number, number> = { 1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 16: 8, 17: 8, 18: 8 };

// readGeoRef parses the header in buf (the file's first bytes). It throws NeedBytes when a
// value lies beyond buf, and Error when the file is not a georeferenced TIFF it understands.
export function readGeoRef(buf: ArrayBuffer): GeoRef {
  const dv = new DataView(buf);
  const need = (off: number, len: number) => {
    if (off + len > dv.byteLength) throw new NeedBytes(off + len);
  };
  need(0, 16);
  const order = dv.getUint16(0);
  if (order !== 0x4949 && order !== 0x4d4d) throw new Error('geotiff: not a TIFF');
  const le = order === 0x4949;
  const u16 = (o: number) => (need(o, 2), dv.getUint16(o, le));
  const u32 = (o: number) => (need(o, 4), dv.getUint32(o, le));
  const u64 = (o: number) => (need(o, 8), Number(dv.getBigUint64(o, le)));
  const magic = u16(2);
  const big = magic === 43;
  if (magic !== 42 && !big) throw new Error('geotiff: not a TIFF');
  const ifd = big ? u64(8) : u32(4);
  const count = big ? u64(ifd) : u16(ifd);
  const entrySize = big ? 20 : 12;
  const first = ifd + (big ? 8 : 2);
  need(first, count * entrySize);

  // The tags we need, their values as numbers (integers or doubles).
  const tags = new Map<number, number[]>();
  for (let i = 0; i < count; i++) {
    const e = first + i * entrySize;
    const tag = u16(e);
    if (![TAG_WIDTH, TAG_HEIGHT, TAG_PIXEL_SCALE, TAG_TIEPOINT, TAG_TRANSFORMATION, TAG_GEOKEYS].includes(tag)) continue;
    const type = u16(e + 2);
    const n = big ? u64(e + 4) : u32(e + 4);
    const size = typeSize[type];
    if (!size) throw new Error(`geotiff: tag ${tag} has field type ${type}`);
    const inline = big ? 8 : 4;
    const at = n * size <= inline ? e + (big ? 12 : 8) : big ? u64(e + 12) : u32(e + 8);
    need(at, n * size);
    const vals: number[] = [];
    for (let k = 0; k < n; k++) {
      const o = at + k * size;
      switch (type) {
        case 3: vals.push(dv.getUint16(o, le)); break;
        case 4: vals.push(dv.getUint32(o, le)); break;
        case 12: vals.push(dv.getFloat64(o, le)); break;
        case 16: vals.push(Number(dv.getBigUint64(o, le))); break;
        default: throw new Error(`geotiff: tag ${tag} has field type ${type}`);
      }
    }
    tags.set(tag, vals);
  }

  const width = tags.get(TAG_WIDTH)?.[0];
  const height = tags.get(TAG_HEIGHT)?.[0];
  if (!width || !height) throw new Error('geotiff: no image size');

  // GeoKeyDirectory: header (version, revision, minor, count), then (key, location, count, value).
  const keys = new Map<number, number>();
  const dir = tags.get(TAG_GEOKEYS);
  if (!dir) throw new Error('geotiff: no GeoKeys: the file is not georeferenced');
  for (let i = 4; i + 3 < dir.length; i += 4) if (dir[i + 1] === 0) keys.set(dir[i], dir[i + 3]);
  const epsg = keys.get(KEY_PROJECTED_TYPE) ?? keys.get(KEY_GEOGRAPHIC_TYPE);
  if (!epsg || epsg === 32767) throw new Error('geotiff: the CRS is not given by an EPSG code');

  // The pixel grid: a tie point with pixel scale (north-up), or a full transformation.
  let ox: number, oy: number, sx: number, sy: number;
  const tie = tags.get(TAG_TIEPOINT);
  const scale = tags.get(TAG_PIXEL_SCALE);
  const m = tags.get(TAG_TRANSFORMATION);
  if (tie && scale && tie.length >= 6) {
    sx = scale[0];
    sy = -scale[1];
    ox = tie[3] - tie[0] * sx;
    oy = tie[4] - tie[1] * sy;
  } else if (m && m.length >= 16) {
    if (m[1] !== 0 || m[4] !== 0) throw new Error('geotiff: the grid is rotated');
    [sx, ox, sy, oy] = [m[0], m[3], m[5], m[7]];
  } else {
    throw new Error('geotiff: no tie point or transformation');
  }
  if (keys.get(KEY_RASTER_TYPE) === 2) {
    // PixelIsPoint: the tie point is a pixel's centre; its corner is half a pixel off.
    ox -= sx / 2;
    oy -= sy / 2;
  }
  const xs = [ox, ox + width * sx];
  const ys = [oy, oy + height * sy];
  return { width, height, epsg, extent: [Math.min(...xs), Math.min(...ys), Math.max(...xs), Math.max(...ys)] };
}
