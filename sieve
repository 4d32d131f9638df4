#!/usr/bin/env bash
# TokenSieve launcher: builds the app jar when it is missing or older than any source, then runs it.
#   ./sieve <command> [options]      e.g. ./sieve bench, ./sieve ask --image a.png --question "..."
# Environment:
#   SIEVE_JAVA_OPTS   extra JVM options (default -Xmx8g)
#   SIEVE_THREADS     intra-op threads of the PyTorch engine (default: all cores)
#   SIEVE_LIBTORCH    folder of a CUDA libtorch matching the bundled version, used with --device gpu
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
jar="$here/src/target/sieve.jar"

stale() {
  [ -f "$jar" ] || return 0
  [ -n "$(find "$here/pom.xml" "$here"/{vlm-core,pruners,datasets,eval}/pom.xml "$here/src/pom.xml" \
      "$here"/{vlm-core,pruners,datasets,eval}/src/main "$here/src/main" \
      -newer "$jar" -type f -print -quit 2>/dev/null)" ]
}

if stale; then
  echo "sieve: building (first run or sources changed)..." >&2
  (cd "$here" && mvn -B -q -o -DskipTests -Dstyle.color=never package >/dev/null 2>&1) \
    || (cd "$here" && mvn -B -q -DskipTests -Dstyle.color=never package >&2) \
    || { echo "sieve: build failed (run 'mvn -B -DskipTests package' to see why)" >&2; exit 1; }
fi

cp="$jar"
for a in "$@"; do
  if [ "$a" = "--device=gpu" ] || [ "$a" = "gpu" ]; then gpu=1; fi
done
if [ "${gpu:-0}" = 1 ]; then
  # leave out the bundled CPU natives so DJL can use a CUDA libtorch
  cp="$jar:$(ls "$here"/src/target/lib/*.jar | grep -v pytorch-native-cpu | tr '\n' ':')"
  if [ -n "${SIEVE_LIBTORCH:-}" ]; then
    export PYTORCH_LIBRARY_PATH="$SIEVE_LIBTORCH/lib"
    export PYTORCH_VERSION="${PYTORCH_VERSION:-2.7.1}"
    export PYTORCH_FLAVOR="${PYTORCH_FLAVOR:-cu128}"
  fi
fi

threads="${SIEVE_THREADS:-$(nproc 2>/dev/null || echo 2)}"
# keep freed native memory in the heap: libtorch allocates and frees large tensors on every op, and
# returning them to the kernel each time costs more than the arithmetic on small CPUs
export MALLOC_MMAP_THRESHOLD_="${MALLOC_MMAP_THRESHOLD_:-4294967296}"
export MALLOC_TRIM_THRESHOLD_="${MALLOC_TRIM_THRESHOLD_:-4294967296}"
export MALLOC_TOP_PAD_="${MALLOC_TOP_PAD_:-536870912}"
export SIEVE_HOME="$here"
exec java ${SIEVE_JAVA_OPTS:--Xmx8g} \
  -Dai.djl.offline=true -Dai.djl.default_engine=PyTorch \
  -Dai.djl.pytorch.num_threads="$threads" -Dai.djl.pytorch.num_interop_threads=1 \
  -Dai.djl.pytorch.graph_optimizer=false \
  -Dorg.slf4j.simpleLogger.defaultLogLevel=warn \
  -Dorg.slf4j.simpleLogger.log.ai.djl.util.cuda.CudaUtils=off \
  -cp "$cp" io.tokensieve.cli.Main "$@"
