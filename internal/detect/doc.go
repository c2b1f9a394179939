// Package detect finds evidence in captures: change between two dates, SWIR hotspots, water
// and smoke plumes in rasters, and exceedances and hotspots along boat and vehicle tracks.
//
// It is pure Go over in-memory arrays and tracks: no I/O, no GDAL, no coordinate systems.
// Callers read the pixels (internal/raster), reproject parcels to the grid's CRS
// (internal/geo) and hand both over as a Grid and Parcels; findings come back with
// geometries in the same CRS, attributed to the parcels they intersect or lie within a
// buffer of. Track findings are in lon/lat, like the tracks and their parcels. Every
// function is safe for concurrent use.
//
// Reflectances are surface reflectance scaled to [0,1] (Sentinel-2 L2A digital numbers ×
// 0.0001 − 0.1, drone 8-bit values / 255); the pipelines package holds the scaling.
//
// # Methods
//
// Change (DetectChange): IR-MAD (Nielsen 2007) for multispectral pairs — canonical
// correlation between the dates through a Cholesky-reduced Jacobi eigen solver, MAD
// variates standardized by their median and MAD, the sum of squares compared with
// chi-square (one degree of freedom per band), pixels re-weighted by their no-change
// probability until the correlations settle. It is invariant to any affine transformation
// of either date's bands: gain, offset and linear seasonal shifts are not change.
// Statistics accumulate in float64 over row blocks of a regular sample; the final pass keeps
// only a bit per pixel for the mask and the runs of changed pixels. RGB captures use robust
// index differences (brightness, red and green chromaticity) of box means sized in metres,
// after a co-registration check (the whole-pixel shift that best correlates the dates) and
// band matching by quantiles where the gain is plausible; the noise scale comes from the
// pixels Otsu's threshold leaves unchanged and the threshold can be Otsu's, so change need
// not be rare. Burn scars (with nir and swir2): the fall of NBR beyond the scene's typical
// one, closed over unburnt lanes and filled like a fire perimeter. Then: cloud, shadow and
// snow masks (SCL, or spectral tests decided object by object — a bright object is cloud
// only if it is not bright on the other date too and is larger than any roof, has a shadow
// or a hazy edge; a dark one is shadow only near a cloud) widened by a buffer, a
// morphological opening against misregistration lines, a minimum mapping unit,
// polygonization by boundary tracing (orb.Polygon with holes), labels from what the
// spectra of each region's core did (burn and vegetation loss before generic new
// structure), and a score.
//
// SWIR hotspots (DetectHotspots, DetectHotspotPair): NHI_SWIR and NHI_SWNIR (Marchese et
// al. 2019) in radiance units, with guards for saturation, bright roofs (absolute swir2
// and contrast against the surroundings), misregistration (a region hot only by NHI_SWNIR
// needs several pixels) and cloud; across a pair: new, stopped, persistent.
//
// Water plumes (DetectWaterPlumes): MNDWI (or NDWI) water, NDTI turbidity against the
// robust background of its water body and tile, shore pixels excluded.
//
// Smoke (DetectSmoke): a haze test (dark channel, saturation after white-patch balance,
// veiled texture, next to no sharp steps inside) and a softness test that tells smoke from
// white roofs, tanks, concrete yards and bare ground.
//
// Tracks (ParseTrackCSV, ParseTrackGeoJSON, DetectTrack): validation naming line and
// column, unit conversion, rolling median/MAD background, limit exceedances, space-time
// hotspot clusters, upwind or upstream attribution with the reason as text.
package detect
