#!/usr/bin/env bash
# Rate–distortion and speed of smlmkit's codec against ffmpeg/libx264 on the same 8-bit grey
# frames, in one run (dev script: needs ffmpeg with libx264, g++, libtiff; not used by the library).
#
#   benchmarks/x264_compare.sh [OUTDIR]        (default /tmp/smlm_x264_compare)
#
# Inputs: the shared ThunderSTORM stack (64×64, 20 frames) converted to 8 bits, and synthetic
# microscopy-like sequences at 128×128 (64 frames) and 512×512 (16 frames). For each input, QP and
# mode (intra: every frame an I-frame; P: GOP 30) it prints one row per codec with bits per pixel,
# PSNR, SSIM, blockiness (codec_peer.cpp) and 1-thread throughput in Mpixel/s.
#  - ours: encode and decode CPU times measured inside the process (codec_peer ours, std::clock).
#  - x264: `ffmpeg -preset ultrafast -qp Q -g GOP -threads 1`, fed as full-range yuv420p with
#    flat chroma (this ffmpeg turns -pix_fmt gray into limited-range yuv420p, which costs ~28 dB);
#    times are user CPU seconds from `ffmpeg -benchmark`: encode minus the same run with
#    `-c:v rawvideo -f null` (demuxing, range conversion, start-up), decode of the .264 to null.
#    The few ms of ffmpeg start-up inside the decode time make x264's small-input figures low.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-/tmp/smlm_x264_compare}
mkdir -p "$OUT"
command -v ffmpeg >/dev/null || { echo "x264_compare: ffmpeg not found" >&2; exit 1; }
TOOL="$OUT/codec_peer"
g++ -std=c++20 -O2 -march=native -DNDEBUG -Iinclude -I/usr/include/eigen3 benchmarks/codec_peer.cpp -ltiff -o "$TOOL"

# User CPU seconds of one ffmpeg run (ffmpeg -benchmark), so load from other processes on the
# machine does not count.
utime() { ffmpeg -hide_banner -benchmark "$@" 2>&1 | sed -n 's/.*bench: utime=\([0-9.]*\)s.*/\1/p' | tail -1; }
# x264 codes grey as yuv420p with flat chroma; full range in and out keeps Y sample-exact (QP 0 is lossless).
TO_YUV="scale=in_range=full:out_range=full,format=yuv420p"
TO_GRAY="scale=in_range=full:out_range=full,format=gray"

inputs=()
read -r W H N < <("$TOOL" tiff ../shared/data/thunderstorm_sim_20frames.tif "$OUT/thunderstorm.raw")
inputs+=("thunderstorm $W $H $N")
"$TOOL" frames 128 128 64 "$OUT/synthetic128.raw"; inputs+=("synthetic128 128 128 64")
"$TOOL" frames 512 512 16 "$OUT/synthetic512.raw"; inputs+=("synthetic512 512 512 16")

printf "%-13s %-5s %3s %-5s %8s %7s %7s %10s %11s %11s\n" input mode qp codec bpp psnr ssim blockiness enc_Mpix/s dec_Mpix/s
for spec in "${inputs[@]}"; do
  read -r name W H N <<<"$spec"
  SRC="$OUT/$name.raw"
  MPIX=$(awk "BEGIN{print $W*$H*$N/1e6}")
  RAW=(-hide_banner -loglevel info -y -f rawvideo -pix_fmt gray -s "${W}x${H}" -i "$SRC")
  base_enc=$(utime "${RAW[@]}" -vf "$TO_YUV" -c:v rawvideo -f null -)
  for mode in intra P; do
    gop=$([ "$mode" = intra ] && echo 1 || echo 30)
    for qp in 0 10 20 26 32 38 44 51; do
      read -r bpp psnr ssim block enc dec < <("$TOOL" ours "$SRC" "$W" "$H" "$N" "$qp" "$gop" |
        sed 's/[a-z_]*=//g')
      printf "%-13s %-5s %3s %-5s %8s %7s %7s %10s %11.1f %11.1f\n" "$name" "$mode" "$qp" ours "$bpp" "$psnr" "$ssim" "$block" \
        "$(awk "BEGIN{print $MPIX/$enc}")" "$(awk "BEGIN{print $MPIX/$dec}")"
      enc_u=$(utime "${RAW[@]}" -vf "$TO_YUV" -c:v libx264 -preset ultrafast -qp "$qp" -g "$gop" -threads 1 "$OUT/x264.264")
      dec_u=$(utime -y -threads 1 -i "$OUT/x264.264" -f null -)
      ffmpeg -hide_banner -loglevel error -y -i "$OUT/x264.264" -vf "$TO_GRAY" -f rawvideo -pix_fmt gray "$OUT/x264_dec.raw"
      enc_s=$(awk "BEGIN{d=$enc_u-$base_enc; print (d>1e-3?d:1e-3)}")
      dec_s=$(awk "BEGIN{print ($dec_u>1e-3?$dec_u:1e-3)}")
      bytes=$(stat -c %s "$OUT/x264.264")
      read -r xpsnr xssim xblock < <("$TOOL" compare "$SRC" "$OUT/x264_dec.raw" "$W" "$H" "$N" | sed 's/[a-z_]*=//g')
      printf "%-13s %-5s %3s %-5s %8.4f %7s %7s %10s %11.1f %11.1f\n" "$name" "$mode" "$qp" x264 \
        "$(awk "BEGIN{print 8*$bytes/($W*$H*$N)}")" "$xpsnr" "$xssim" "$xblock" \
        "$(awk "BEGIN{print $MPIX/$enc_s}")" "$(awk "BEGIN{print $MPIX/$dec_s}")"
    done
  done
done
