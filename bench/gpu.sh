#!/usr/bin/env bash
# The whole bench on a GPU machine in one command (issue 12):
#   bench/gpu.sh [--quick | --smoke] [--no-torch] [--out FILE] [-- more `deno task bench` flags]
# Installs what it needs (Deno 2.9.6 through npx when deno is not on PATH; on Debian/Ubuntu as root, the Vulkan
# loader that Deno's WebGPU needs), prints the WebGPU adapter, runs the bench cases on --backend webgpu and the same
# cases in PyTorch on CUDA when torch sees a GPU (else PyTorch on the CPU, labelled so in the JSON), and writes
# bench/results/gpu-latest.json (the rows of bench/results/latest.json plus the adapter and the PyTorch device).
# --quick: the bench's quick subset. --smoke: one small case (the ToyNet train step), one round, 3 repeats, no
# memory processes: checks the script end to end in seconds, e.g. on a software adapter (llvmpipe).
set -euo pipefail
cd "$(dirname "$0")/.."

mode=full
with_torch=1
out=bench/results/gpu-latest.json
extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) mode=quick ;;
    --smoke) mode=smoke ;;
    --no-torch) with_torch=0 ;;
    --out)
      [ $# -ge 2 ] || { echo "gpu.sh: --out needs a file name" >&2; exit 2; }
      out="$2"
      shift
      ;;
    --)
      shift
      extra=("$@")
      break
      ;;
    *)
      echo "gpu.sh: unknown option \"$1\" (expected --quick, --smoke, --no-torch, --out FILE or -- bench flags)" >&2
      exit 2
      ;;
  esac
  shift
done

# Deno: the one on PATH, else CI's pinned version through npx.
if command -v deno >/dev/null; then
  deno=(deno)
elif command -v npx >/dev/null; then
  deno=(npx -y deno@2.9.6)
else
  echo "gpu.sh: needs deno 2.9.6 on PATH, or npx to fetch it" >&2
  exit 1
fi

# Deno's WebGPU reaches the GPU through Vulkan: the loader must be installed (the GPU driver brings its own ICD;
# mesa-vulkan-drivers adds the llvmpipe software adapter for machines without one).
if ! ldconfig -p 2>/dev/null | grep -q 'libvulkan\.so\.1'; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get update -q
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends libvulkan1 mesa-vulkan-drivers
  else
    echo "gpu.sh: the Vulkan loader (libvulkan.so.1) is missing: install libvulkan1 (Debian/Ubuntu)" >&2
  fi
fi

adapter="$("${deno[@]}" run -A bench/adapter.ts 2>/dev/null || echo null)"
echo "WebGPU adapter: ${adapter}"
if [ "${adapter}" = null ]; then
  echo "gpu.sh: Deno finds no WebGPU adapter (GPU driver with Vulkan support, or mesa-vulkan-drivers)" >&2
  exit 1
fi
case "${adapter}" in
  *'"fallback":true'*) echo "gpu.sh: this is a software adapter: its timings say nothing about GPU speed" ;;
esac

# The Python for the PyTorch side: $PYTHON if set, else the first python3 whose torch sees a CUDA device, else the
# first that imports torch at all (PyTorch then runs on the CPU, labelled so).
torch=(--no-torch)
python=""
for p in "${PYTHON:-}" "$(command -v python3 || true)" /usr/bin/python3; do
  if [ "${with_torch}" = 0 ] || [ -z "${p}" ] || [ ! -x "${p}" ]; then continue; fi
  device="$("${p}" -c 'import torch; print("cuda" if torch.cuda.is_available() else "cpu")' 2>/dev/null || true)"
  if [ "${device}" = cuda ] || { [ "${device}" = cpu ] && [ -z "${python}" ]; }; then
    python="${p}"
    torch=(--torch-device "${device}")
  fi
  if [ "${device}" = cuda ]; then break; fi
done
case "${torch[*]}" in
  *cuda) echo "PyTorch: ${python}, CUDA on $("${python}" -c 'import torch; print(torch.cuda.get_device_name(0))')" ;;
  *cpu) echo "PyTorch: ${python}, no CUDA device: its column is the CPU" ;;
  *) echo "PyTorch: not run (--no-torch, or no python3 imports torch): its column stays empty" ;;
esac
export NIFTYTS_BENCH_PYTHON="${python:-/usr/bin/python3}"

case "${mode}" in
  full) flags=() ;;
  quick) flags=(--quick) ;;
  smoke) flags=(--quick --only "ToyNet demo train step" --rounds 1 --repeats 3 --cases-only) ;;
esac

"${deno[@]}" run -A bench/run.ts --backend webgpu "${torch[@]}" "${flags[@]}" --out "${out}" "${extra[@]}"
