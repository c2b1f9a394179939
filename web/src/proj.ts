// Coordinate systems of scenes, for placing their images on the map: OpenLayers knows
// EPSG:4326 and EPSG:3857; others are registered here with proj4, from their parameters,
// so nothing is looked up anywhere. Covered: WGS 84 / UTM (326xx north, 327xx south) and
// CGCS2000 (EPSG:4490) with its Gauss-Krüger zones (4491–4554), the grids of Chinese
// satellite, drone and survey data.
import proj4 from 'proj4';
import { register } from 'ol/proj/proj4';
import { get as getProjection } from 'ol/proj';

// proj4Def is the proj4 definition of an EPSG code, or null for one not covered.
export function proj4Def(epsg: number): string | null {
  const gk = (lon0: number, x0: number) => `+proj=tmerc +lat_0=0 +lon_0=${lon0} +k=1 +x_0=${x0} +y_0=0 +ellps=GRS80 +units=m +no_defs`;
  if (epsg >= 32601 && epsg <= 32660) return `+proj=utm +zone=${epsg - 32600} +datum=WGS84 +units=m +no_defs`;
  if (epsg >= 32701 && epsg <= 32760) return `+proj=utm +zone=${epsg - 32700} +south +datum=WGS84 +units=m +no_defs`;
  if (epsg === 4490) return '+proj=longlat +ellps=GRS80 +no_defs';
  // CGCS2000 / Gauss-Kruger zone 13..23 (6°, zone number in the false easting).
  if (epsg >= 4491 && epsg <= 4501) { const z = epsg - 4491 + 13; return gk(z * 6 - 3, z * 1e6 + 500000); }
  // CGCS2000 / Gauss-Kruger CM 75E..135E (6°).
  if (epsg >= 4502 && epsg <= 4512) return gk(75 + 6 * (epsg - 4502), 500000);
  // CGCS2000 / 3-degree Gauss-Kruger zone 25..45 (zone number in the false easting).
  if (epsg >= 4513 && epsg <= 4533) { const z = epsg - 4513 + 25; return gk(z * 3, z * 1e6 + 500000); }
  // CGCS2000 / 3-degree Gauss-Kruger CM 75E..135E.
  if (epsg >= 4534 && epsg <= 4554) return gk(75 + 3 * (epsg - 4534), 500000);
  return null;
}

// projectionCode registers EPSG:epsg with OpenLayers when needed and returns its code, or
// null when it is not covered.
export function projectionCode(epsg: number): string | null {
  const code = `EPSG:${epsg}`;
  if (getProjection(code)) return code;
  const def = proj4Def(epsg);
  if (!def) return null;
  proj4.defs(code, def);
  register(proj4);
  return getProjection(code) ? code : null;
}
