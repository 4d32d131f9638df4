#!/usr/bin/env bash
# The prepared GPU check: the tiny random LLaVA on CPU and on CUDA through one libtorch, unpruned and with
# FastV, printing answers, live tokens per layer, best-of-5 latency and the CPU/GPU first-token logit gap.
#   SIEVE_LIBTORCH=/path/to/libtorch-2.7.1-cu128 tools/gpu-check/run.sh
# Needs the application built (./sieve pruners does it) and a CUDA build of libtorch 2.7.1 (DJL 0.36's JNI is
# compiled against 2.7.1; other versions load but fail at the first tensor created from Java memory).
set -euo pipefail
here="$(cd "$(dirname "$0")/../.." && pwd)"
lib="${SIEVE_LIBTORCH:?set SIEVE_LIBTORCH to a CUDA libtorch 2.7.1 folder (its lib/ holds libtorch.so)}"
[ -d "$lib/lib" ] && lib="$lib/lib"
cp="$(ls "$here"/src/target/lib/*.jar | grep -v pytorch-native-cpu | tr '\n' ':')"
out="$(mktemp -d)"
javac -d "$out" -cp "$cp" "$here/tools/gpu-check/GpuProbe.java"
export PYTORCH_LIBRARY_PATH="$lib" PYTORCH_VERSION="${PYTORCH_VERSION:-2.7.1}" PYTORCH_FLAVOR="${PYTORCH_FLAVOR:-cu128}"
export LD_LIBRARY_PATH="$lib:${LD_LIBRARY_PATH:-}"
exec java -Dai.djl.offline=true -cp "$cp$out" GpuProbe
