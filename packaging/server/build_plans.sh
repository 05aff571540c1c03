#!/usr/bin/env bash
# Builds TensorRT engines ahead of time with trtexec, the documented
# alternative to letting ONNX Runtime's TensorRT accelerator build them at
# load: each model of a gpu repository (make_repository.py --variant gpu)
# becomes a `tensorrt_plan` model, built with the same explicit shape
# profile its config gives the accelerator, in FP16 unless --fp32.
#
#   packaging/server/build_plans.sh [--fp32] [--dry-run] REPOSITORY
#
# A plan is tied to the GPU model and TensorRT version it was built with, so
# run it on the serving machine, with the Triton image's own trtexec:
#   docker compose -f packaging/server/docker-compose.yml run --rm --entrypoint bash \
#     triton /src/packaging/server/build_plans.sh /models/repository
# (mount the checkout at /src and the models volume read-write for that).
# --dry-run prints each trtexec command and the config it would write.
set -euo pipefail

precision=fp16
dry_run=false
while [ "$#" -gt 1 ]; do
    case "$1" in
        --fp32) precision=fp32 ;;
        --dry-run) dry_run=true ;;
        *) echo "build_plans.sh: unknown option $1" >&2; exit 2 ;;
    esac
    shift
done
repo="${1:?usage: build_plans.sh [--fp32] [--dry-run] REPOSITORY}"
trtexec="${TRTEXEC:-$(command -v trtexec || echo /usr/src/tensorrt/bin/trtexec)}"
if ! $dry_run && [ ! -x "$trtexec" ]; then
    echo "build_plans.sh: trtexec not found (set TRTEXEC); it ships in NVIDIA's Triton and TensorRT images" >&2
    exit 1
fi

profile() {
    sed -n "s/.*key: \"trt_profile_$1_shapes\" value: \"\([^\"]*\)\".*/\1/p" "$2"
}

# The config without its accelerator block (a plan is TensorRT already),
# on the tensorrt_plan platform.
plan_config() {
    awk '
        /^# The explicit shape profile|^optimization \{/ { skipping = 1 }
        !skipping { print }
    ' "$1" | sed 's/^platform: "onnxruntime_onnx"/platform: "tensorrt_plan"/'
}

for model in face_detector gender_model age_model faceapi_model; do
    config="$repo/$model/config.pbtxt"
    onnx="$repo/$model/1/model.onnx"
    if [ ! -f "$onnx" ]; then
        echo "build_plans.sh: $onnx is missing; assemble the repository with make_repository.py --variant gpu" >&2
        exit 1
    fi
    command=("$trtexec" "--onnx=$onnx" "--saveEngine=$repo/$model/1/model.plan"
        "--minShapes=$(profile min "$config")" "--optShapes=$(profile opt "$config")"
        "--maxShapes=$(profile max "$config")" --skipInference)
    if [ "$precision" = fp16 ]; then
        command+=(--fp16)
    fi
    if $dry_run; then
        echo "${command[*]}"
        plan_config "$config" | grep -E '^(name|platform|max_batch_size):'
        continue
    fi
    "${command[@]}"
    plan_config "$config" > "$config.new"
    mv "$config.new" "$config"
    rm "$onnx"
done
