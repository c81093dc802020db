#!/usr/bin/env bash
# clang-format over every C/C++ source and header under libs/bpf (style:
# libs/bpf/.clang-format, kernel style). Default: check, fail on any
# difference. --fix: rewrite the files in place.
set -euo pipefail
cd "$(dirname "$0")/.."

mode=(--dry-run --Werror)
if [ "${1:-}" = "--fix" ]; then
  mode=(-i)
elif [ $# -gt 0 ]; then
  echo "usage: $0 [--fix]" >&2
  exit 2
fi

if ! command -v clang-format >/dev/null 2>&1; then
  echo "clang-format: not installed (apt-get install clang-format, or npm run setup)" >&2
  exit 1
fi

mapfile -d '' files < <(find libs/bpf \
  \( -path '*/node_modules' -o -path '*/build' -o -path '*/dist' \) -prune -o \
  -type f \( -name '*.c' -o -name '*.h' -o -name '*.cc' -o -name '*.cpp' -o -name '*.hpp' \) \
  -print0 | sort -z)

if [ ${#files[@]} -eq 0 ]; then
  echo "clang-format: no C/C++ files under libs/bpf"
  exit 0
fi

if clang-format --style=file "${mode[@]}" "${files[@]}"; then
  [ "${mode[0]}" = "-i" ] && echo "clang-format: formatted ${#files[@]} files" \
    || echo "clang-format: ${#files[@]} files clean"
else
  echo "clang-format: files above differ from libs/bpf/.clang-format; run: bash tools/clang-format.sh --fix" >&2
  exit 1
fi
