#!/usr/bin/env sh
# Rebuilds street_camera.ts from the shared street-camera clip (Debian's
# ffmpeg with libx264): H.264 High, 768x576, 10 fps, a keyframe every 10 s
# of picture, MPEG-TS (keyframes flagged as random access points).
set -eu
src="${CITYTWIN_SHARED_DATA:-$(dirname "$0")/../../../shared/data}/video/street_camera_768x576.avi"
ffmpeg -hide_banner -loglevel error -y -i "$src" -an -c:v libx264 -preset slower \
  -tune film -crf 30 -g 100 -pix_fmt yuv420p -f mpegts "$(dirname "$0")/street_camera.ts"
