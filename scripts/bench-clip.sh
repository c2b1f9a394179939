#!/usr/bin/env bash
# bench-clip: clip 1,000 parcels of 1–20 ha from a Sentinel-2-sized COG
# (10980 × 10980, 4 bands UInt16, 512-pixel tiles) in the local S3 gateway,
# and compare, side by side: internal/raster (cmd/benchclip), a gdalwarp
# -cutline loop over /vsis3/ and a rasterio mask loop over one open dataset.
# Bytes fetched from S3 are counted by a reverse proxy every tool goes
# through, and the S3 gateway's CPU time (it runs on the same cores) is printed
# next to each tool's. Then our peak RSS on a scene 4× larger (21960 × 21960).
#
# Environment (defaults in brackets):
#   OFFSITE_S3_ENDPOINT [127.0.0.1:7070]  OFFSITE_S3_ACCESS_KEY [offsite]
#   OFFSITE_S3_SECRET_KEY [offsite-secret]  BENCH_BUCKET [offsite-bench]
#   BENCH_DIR [.state/bench] (generated scenes are cached here)
#   BENCH_PARCELS [1000]  BENCH_GDALWARP_N [50] (gdalwarp runs on this many
#   parcels and is extrapolated to all)  BENCH_PROXY [127.0.0.1:7078]
#   BENCH_SKIP_4X [0]  BENCH_REPEAT [3] (ours and rasterio run this many
#   times; the fastest run is reported, as the machine may be shared)
set -euo pipefail
cd "$(dirname "$0")/.."

S3=${OFFSITE_S3_ENDPOINT:-127.0.0.1:7070}
AK=${OFFSITE_S3_ACCESS_KEY:-offsite}
SK=${OFFSITE_S3_SECRET_KEY:-offsite-secret}
BUCKET=${BENCH_BUCKET:-offsite-bench}
DIR=${BENCH_DIR:-.state/bench}
N=${BENCH_PARCELS:-1000}
GW_N=${BENCH_GDALWARP_N:-50}
PROXY=${BENCH_PROXY:-127.0.0.1:7078}
REPEAT=${BENCH_REPEAT:-3}
PY=/usr/bin/python3 # Debian's python3 with python3-rasterio

for tool in gdalwarp gdal_translate "$PY" /usr/bin/time curl; do
	command -v "$tool" >/dev/null || { echo "bench-clip: $tool not found" >&2; exit 1; }
done
"$PY" -c 'import rasterio, numpy' 2>/dev/null || { echo "bench-clip: $PY lacks rasterio (apt-get install python3-rasterio)" >&2; exit 1; }
(echo >"/dev/tcp/${S3%:*}/${S3#*:}") 2>/dev/null || { echo "bench-clip: no S3 gateway at $S3 (make services)" >&2; exit 1; }

mkdir -p "$DIR"
go build -o "$DIR/benchclip" ./cmd/benchclip
BC="$DIR/benchclip"

# scene SIZE: generate (once) a 4-band UInt16 COG of SIZE×SIZE pixels, 10 m,
# UTM 50N, smooth fields plus noise, DEFLATE with predictor, 512 tiles.
scene() {
	local size=$1 out="$DIR/s2-$1.tif"
	if [[ ! -s $out ]]; then
		echo "generating $out (once)..." >&2
		cat >"$DIR/gen.py" <<'PYEOF'
import sys, numpy as np, rasterio
from rasterio.transform import from_origin
size = int(sys.argv[1]); out = sys.argv[2]
prof = dict(driver="GTiff", width=size, height=size, count=4, dtype="uint16", crs="EPSG:32650",
            transform=from_origin(399960, 3500040, 10, 10), tiled=True, blockxsize=512, blockysize=512,
            compress="deflate", predictor=2, nodata=0, BIGTIFF="IF_SAFER")
rng = np.random.default_rng(1)
with rasterio.open(out, "w", **prof) as ds:
    step = 1024
    for y0 in range(0, size, step):
        h = min(step, size - y0)
        yy, xx = np.mgrid[y0:y0 + h, 0:size].astype(np.float32)
        base = (np.sin(xx / 377.0) + np.cos(yy / 291.0)) * 900 + 3000
        for b in range(4):
            noise = rng.normal(0, 60, (h, size)).astype(np.float32)
            arr = np.clip(base * (1 + 0.15 * b) + noise, 1, 65535).astype(np.uint16)
            ds.write(arr, b + 1, window=rasterio.windows.Window(0, y0, size, h))
PYEOF
		"$PY" "$DIR/gen.py" "$size" "$DIR/raw-$size.tif"
		gdal_translate -q -of COG -co COMPRESS=DEFLATE -co PREDICTOR=YES -co BLOCKSIZE=512 \
			-co NUM_THREADS=2 -co BIGTIFF=IF_SAFER "$DIR/raw-$size.tif" "$out.part"
		mv "$out.part" "$out"
		rm -f "$DIR/raw-$size.tif"
	fi
	"$BC" upload -endpoint "$S3" -access-key "$AK" -secret-key "$SK" -bucket "$BUCKET" -key "s2-$size.tif" -file "$out"
}

scene 10980
mkdir -p "$DIR/cut-10980"
"$BC" parcels -scene "$DIR/s2-10980.tif" -n "$N" -out "$DIR/parcels-10980.geojson" -dir "$DIR/cut-10980"

# The counting proxy in front of the gateway.
"$BC" proxy -listen "$PROXY" -target "$S3" >"$DIR/proxy.log" 2>&1 &
PROXY_PID=$!
trap 'kill $PROXY_PID 2>/dev/null || true' EXIT
for _ in $(seq 50); do curl -sf "http://$PROXY/_bench/bytes" >/dev/null && break; sleep 0.1; done
reset() { curl -sf -XPOST "http://$PROXY/_bench/reset"; }
# The gateway runs on the same cores: its CPU time is part of each tool's cost.
GW_PIDFILE=${OFFSITE_STATE_DIR:-.state}/versitygw.pid
gwcpu() { # seconds of CPU the local gateway has used, or 0 when it is not ours
	local pid
	pid=$(cat "$GW_PIDFILE" 2>/dev/null) && [[ -r /proc/$pid/stat ]] || { echo 0; return; }
	awk -v hz="$(getconf CLK_TCK)" '{printf "%.2f\n", ($14 + $15) / hz}' "/proc/$pid/stat"
}
fetched() { curl -sf "http://$PROXY/_bench/bytes" | cut -d' ' -f1; }
json() { "$PY" -c "import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])" "$1" "$2"; }

export AWS_S3_ENDPOINT=$PROXY AWS_HTTPS=NO AWS_VIRTUAL_HOSTING=FALSE AWS_REGION=us-east-1 \
	AWS_ACCESS_KEY_ID=$AK AWS_SECRET_ACCESS_KEY=$SK GDAL_DISABLE_READDIR_ON_OPEN=EMPTY_DIR

# Ours, with the Go reader (default) and with GDAL's /vsis3/, COGs and
# quick-looks; and with the Go reader, COGs only.
declare -A OURS_T OURS_B OURS_R OURS_C OURS_G
# best CMD...: runs CMD REPEAT times (resetting the byte counter each time)
# and prints the JSON line of the fastest run, with "fetched" added.
best() {
	local out bestout="" bestt=""
	for ((r = 0; r < REPEAT; r++)); do
		reset
		g0=$(gwcpu)
		out=$("$@")
		g1=$(gwcpu)
		out=$("$PY" -c 'import json,sys; d=json.loads(sys.argv[1]); d["fetched"]=int(sys.argv[2]); d["gw_cpu_s"]=float(sys.argv[4])-float(sys.argv[3]); print(json.dumps(d))' "$out" "$(fetched)" "$g0" "$g1")
		t=$(json "$out" wall_s)
		if [[ -z $bestt ]] || (( $(echo "$t < $bestt" | bc -l) )); then bestt=$t; bestout=$out; fi
	done
	echo "$bestout"
}
for reader in go gdal go-noql; do
	flags=(-reader "${reader%-noql}")
	[[ $reader == *-noql ]] && flags+=(-no-quicklook)
	out=$(best "$BC" clip -endpoint "$PROXY" -access-key "$AK" -secret-key "$SK" -bucket "$BUCKET" \
		-key s2-10980.tif -parcels "$DIR/parcels-10980.geojson" "${flags[@]}")
	OURS_T[$reader]=$(json "$out" wall_s)
	OURS_B[$reader]=$(json "$out" fetched)
	OURS_R[$reader]=$(json "$out" maxrss_kb)
	OURS_C[$reader]=$(json "$out" cpu_s)
	OURS_G[$reader]=$(json "$out" gw_cpu_s)
	[[ $reader == go ]] && { TILE_BYTES=$(json "$out" block_bytes); BLOCKS=$(json "$out" blocks); CLIPPED=$(json "$out" clipped); }
done

# gdalwarp -cutline loop over /vsis3/, one process per parcel.
GW_N=$(( GW_N < N ? GW_N : N ))
rm -rf "$DIR/gw-out" && mkdir -p "$DIR/gw-out"
reset
GW_RSS=0
GW_C_SAMPLE=0
g0=$(gwcpu)
t0=$(date +%s.%N)
for ((i = 0; i < GW_N; i++)); do
	id=$(printf 'p%04d' "$i")
	read -r rss cpu < <( { /usr/bin/time -f '%M %U %S' gdalwarp -q -overwrite -cutline "$DIR/cut-10980/$id.geojson" -crop_to_cutline \
		"/vsis3/$BUCKET/s2-10980.tif" "$DIR/gw-out/$id.tif" >/dev/null; } 2>&1 | tail -1 | awk '{print $1, $2 + $3}')
	(( rss > GW_RSS )) && GW_RSS=$rss
	GW_C_SAMPLE=$(echo "$GW_C_SAMPLE + $cpu" | bc -l)
done
t1=$(date +%s.%N)
g1=$(gwcpu)
GW_G=$(echo "($g1 - $g0) * $N / $GW_N" | bc -l)
GW_T_SAMPLE=$(echo "$t1 - $t0" | bc -l)
GW_B_SAMPLE=$(fetched)
GW_T=$(echo "$GW_T_SAMPLE * $N / $GW_N" | bc -l)
GW_B=$(echo "$GW_B_SAMPLE * $N / $GW_N" | bc -l)
GW_C=$(echo "$GW_C_SAMPLE * $N / $GW_N" | bc -l)

# rasterio mask loop over one open dataset.
cat >"$DIR/rio.py" <<'PYEOF'
import json, resource, sys, time
import rasterio
from rasterio.mask import mask
from rasterio.warp import transform_geom
path, parcels = sys.argv[1], sys.argv[2]
feats = json.load(open(parcels))["features"]
t0 = time.time()
with rasterio.Env():
    with rasterio.open(path) as ds:
        for f in feats:
            g = transform_geom("EPSG:4326", ds.crs, f["geometry"])
            out, _ = mask(ds, [g], crop=True)
ru = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({"wall_s": time.time() - t0, "maxrss_kb": ru.ru_maxrss, "cpu_s": ru.ru_utime + ru.ru_stime}))
PYEOF
# GDAL's default block cache is 5% of RAM; on a large machine it holds every
# touched tile, so rasterio decodes each once. With the 64 MB cache Clip
# uses, rasterio refetches and redecodes tiles that parcels share.
declare -A RIO_T RIO_B RIO_R RIO_C RIO_G
for cache in default 64; do
	if [[ $cache == default ]]; then
		out=$(best "$PY" "$DIR/rio.py" "/vsis3/$BUCKET/s2-10980.tif" "$DIR/parcels-10980.geojson")
	else
		out=$(best env GDAL_CACHEMAX=$cache "$PY" "$DIR/rio.py" "/vsis3/$BUCKET/s2-10980.tif" "$DIR/parcels-10980.geojson")
	fi
	RIO_T[$cache]=$(json "$out" wall_s)
	RIO_R[$cache]=$(json "$out" maxrss_kb)
	RIO_C[$cache]=$(json "$out" cpu_s)
	RIO_B[$cache]=$(json "$out" fetched)
	RIO_G[$cache]=$(json "$out" gw_cpu_s)
done
RAM_MB=$(free -m | awk '/^Mem:/ {print $2}')

# The floor the issue sets the rasterio target against: GDAL decoding every
# tile of the scene once on 2 threads (one dataset per thread, alternate
# tile rows), from the same gateway. Scaled to the tiles the parcels touch,
# it is the least any clipper decoding with GDAL can spend.
cat >"$DIR/decode.py" <<'PYEOF'
import json, resource, sys, threading, time
import rasterio
from rasterio.windows import Window
path, nthreads = sys.argv[1], int(sys.argv[2])
def work(k):
    with rasterio.open(path) as ds:
        bw, bh = ds.block_shapes[0][1], ds.block_shapes[0][0]
        for r in range(k, (ds.height + bh - 1) // bh, nthreads):
            for c in range((ds.width + bw - 1) // bw):
                w = Window(c * bw, r * bh, min(bw, ds.width - c * bw), min(bh, ds.height - r * bh))
                ds.read(window=w)
t0 = time.time()
ts = [threading.Thread(target=work, args=(k,)) for k in range(nthreads)]
for t in ts: t.start()
for t in ts: t.join()
with rasterio.open(path) as ds:
    tiles = ((ds.width + 511) // 512) * ((ds.height + 511) // 512)
ru = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({"wall_s": time.time() - t0, "maxrss_kb": ru.ru_maxrss, "cpu_s": ru.ru_utime + ru.ru_stime, "tiles": tiles}))
PYEOF
out=$(best env GDAL_CACHEMAX=64 "$PY" "$DIR/decode.py" "/vsis3/$BUCKET/s2-10980.tif" 2)
DEC_T=$(json "$out" wall_s)
DEC_C=$(json "$out" cpu_s)
DEC_B=$(json "$out" fetched)
DEC_G=$(json "$out" gw_cpu_s)
DEC_R=$(json "$out" maxrss_kb)
DEC_TILES=$(json "$out" tiles)

# Our peak RSS on a scene 4× larger, same number of parcels.
RSS4=""
if [[ ${BENCH_SKIP_4X:-0} != 1 ]]; then
	scene 21960
	"$BC" parcels -scene "$DIR/s2-21960.tif" -n "$N" -out "$DIR/parcels-21960.geojson"
	reset
	out=$("$BC" clip -endpoint "$PROXY" -access-key "$AK" -secret-key "$SK" -bucket "$BUCKET" \
		-key s2-21960.tif -parcels "$DIR/parcels-21960.geojson" -reader go)
	RSS4=$(json "$out" maxrss_kb)
	T4=$(json "$out" wall_s)
fi

mib() { echo "scale=1; $1 / 1048576" | bc -l; }
FILE_BYTES=$(stat -c %s "$DIR/s2-10980.tif")
echo
echo "bench-clip: $N parcels (1–20 ha), scene 10980×10980×4 UInt16, 512 tiles, $(mib "$FILE_BYTES") MiB; $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "touched: $BLOCKS tiles, $(mib "$TILE_BYTES") MiB stored; clipped $CLIPPED; ours = COG + quick-look PNG per parcel"
echo "ours and rasterio: fastest of $REPEAT runs; gdalwarp: $GW_N runs extrapolated to $N"
row() { printf '%-40s %8.2f %8.2f %8.2f %12.1f %12.1f\n' "$1" "$2" "$3" "$4" "$(mib "$5")" "$(echo "$6/1024" | bc -l)"; }
printf '%-40s %8s %8s %8s %12s %12s\n' tool "wall s" "cpu s" "gw cpu s" "fetched MiB" "peak RSS MiB"
row "ours (Go S3 reader)" "${OURS_T[go]}" "${OURS_C[go]}" "${OURS_G[go]}" "${OURS_B[go]}" "${OURS_R[go]}"
row "ours (GDAL /vsis3/)" "${OURS_T[gdal]}" "${OURS_C[gdal]}" "${OURS_G[gdal]}" "${OURS_B[gdal]}" "${OURS_R[gdal]}"
row "ours (Go reader, no quick-looks)" "${OURS_T[go-noql]}" "${OURS_C[go-noql]}" "${OURS_G[go-noql]}" "${OURS_B[go-noql]}" "${OURS_R[go-noql]}"
row "gdalwarp loop (${GW_N} run, x$N/$GW_N)" "$GW_T" "$GW_C" "$GW_G" "$GW_B" "$GW_RSS"
row "rasterio mask loop (cache 5% of ${RAM_MB} MB)" "${RIO_T[default]}" "${RIO_C[default]}" "${RIO_G[default]}" "${RIO_B[default]}" "${RIO_R[default]}"
row "rasterio mask loop (GDAL_CACHEMAX=64)" "${RIO_T[64]}" "${RIO_C[64]}" "${RIO_G[64]}" "${RIO_B[64]}" "${RIO_R[64]}"
row "GDAL decode of all $DEC_TILES tiles, 2 threads" "$DEC_T" "$DEC_C" "$DEC_G" "$DEC_B" "$DEC_R"
echo "(cpu s: the tool's own user+sys time; gw cpu s: the S3 gateway's, on the same cores)"
echo "(outputs: ours a COG and a quick-look PNG per parcel, or COGs only; gdalwarp a GeoTIFF per"
echo " parcel; rasterio none: it masks into memory)"
echo
ratio() { echo "($1) / ($2)" | bc -l; }
printf 'speed-up vs gdalwarp loop:  %6.1fx  (target >= 40x; %.1fx with COGs only, as gdalwarp writes no quick-look)\n' \
	"$(ratio "$GW_T" "${OURS_T[go]}")" "$(ratio "$GW_T" "${OURS_T[go-noql]}")"
printf 'speed-up vs rasterio loop:  %6.1fx  (target >= 4x; %.1fx with COGs only; %.1fx against rasterio with a 64 MB cache)\n' \
	"$(ratio "${RIO_T[default]}" "${OURS_T[go]}")" "$(ratio "${RIO_T[default]}" "${OURS_T[go-noql]}")" "$(ratio "${RIO_T[64]}" "${OURS_T[go]}")"
DEC_TOUCHED=$(echo "$DEC_T * $BLOCKS / $DEC_TILES" | bc -l)
printf 'ours / decoding the %d touched tiles once: %.2fx  (%.2f s vs %.2f s: the whole-scene decode scaled by %d/%d tiles; COGs only %.2fx)\n' \
	"$BLOCKS" "$(ratio "${OURS_T[go]}" "$DEC_TOUCHED")" "${OURS_T[go]}" "$DEC_TOUCHED" "$BLOCKS" "$DEC_TILES" "$(ratio "${OURS_T[go-noql]}" "$DEC_TOUCHED")"
printf 'cpu incl. gateway, rasterio / ours: %.1fx  (gdalwarp / ours: %.1fx)\n' \
	"$(ratio "${RIO_C[default]} + ${RIO_G[default]}" "${OURS_C[go]} + ${OURS_G[go]}")" "$(ratio "$GW_C + $GW_G" "${OURS_C[go]} + ${OURS_G[go]}")"
printf 'fetched / touched tiles:    %6.3f   (target <= 1.25; /vsis3/ reader: %.3f)\n' \
	"$(ratio "${OURS_B[go]}" "$TILE_BYTES")" "$(ratio "${OURS_B[gdal]}" "$TILE_BYTES")"
if [[ -n $RSS4 ]]; then
	printf 'peak RSS 4x scene / 1x:     %6.2f   (%.1f vs %.1f MiB, %.2f s; target 0.8-1.2)\n' \
		"$(echo "$RSS4 / ${OURS_R[go]}" | bc -l)" "$(echo "$RSS4/1024" | bc -l)" "$(echo "${OURS_R[go]}/1024" | bc -l)" "$T4"
fi
