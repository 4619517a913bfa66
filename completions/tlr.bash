# bash completion for tlr; generated from tlr's command table by `tlr completion bash`.
_tlr() {
  local cur="${COMP_WORDS[COMP_CWORD]}" prev="${COMP_WORDS[COMP_CWORD-1]}"
  if [ "$COMP_CWORD" -eq 1 ]; then
    COMPREPLY=( $(compgen -W 'check plan fmt diff explain lsp models fetch pack run watch lr-find predict eval export doctor compare report serve completion' -- "$cur") )
    return
  fi
  case "${COMP_WORDS[1]}" in
    check)
      case "$prev" in
        --format) COMPREPLY=( $(compgen -W 'text json github sarif' -- "$cur") ); return ;;
        --stdin-filename) COMPREPLY=( $(compgen -f -- "$cur") ); return ;;
      esac
      if [[ "$cur" == -* ]]; then COMPREPLY=( $(compgen -W '--format --json --deep --stdin-filename --help' -- "$cur") ); return; fi
      COMPREPLY=( $(compgen -f -X '!*.tlr' -- "$cur") $(compgen -d -- "$cur") ) ;;
    plan)
      case "$prev" in
        --stdin-filename) COMPREPLY=( $(compgen -f -- "$cur") ); return ;;
      esac
      if [[ "$cur" == -* ]]; then COMPREPLY=( $(compgen -W '--json --textconv --stdin-filename --help' -- "$cur") ); return; fi
      COMPREPLY=( $(compgen -f -X '!*.tlr' -- "$cur") $(compgen -d -- "$cur") ) ;;
    fmt)
      case "$prev" in
        --stdin-filename) COMPREPLY=( $(compgen -f -- "$cur") ); return ;;
      esac
      if [[ "$cur" == -* ]]; then COMPREPLY=( $(compgen -W '--write --check --stdin-filename --help' -- "$cur") ); return; fi
      COMPREPLY=( $(compgen -f -X '!*.tlr' -- "$cur") $(compgen -d -- "$cur") ) ;;
    diff)
      if [[ "$cur" == -* ]]; then COMPREPLY=( $(compgen -W '--git --md --json --help' -- "$cur") ); return; fi
      COMPREPLY=( $(compgen -f -X '!*.tlr' -- "$cur") $(compgen -d -- "$cur") ) ;;
    explain)
      case "$prev" in
        --stdin-filename) COMPREPLY=( $(compgen -f -- "$cur") ); return ;;
      esac
      if [[ "$cur" == -* ]]; then COMPREPLY=( $(compgen -W '--html --stdin-filename --help' -- "$cur") ); return; fi
      COMPREPLY=( $(compgen -f -X '!*.tlr' -- "$cur") $(compgen -d -- "$cur") ) ;;
    lsp)
      if [[ "$cur" == -* ]]; then COMPREPLY=( $(compgen -W '--stdio --help' -- "$cur") ); return; fi
      COMPREPLY=() ;;
    models)
      case "$prev" in
        --width) COMPREPLY=(); return ;;
        --input) COMPREPLY=(); return ;;
      esac
      if [[ "$cur" == -* ]]; then COMPREPLY=( $(compgen -W '--width --input --json --help' -- "$cur") ); return; fi
      COMPREPLY=( $(compgen -W 'alexnet vgg16 vgg19 resnet18 resnet34 resnet50 resnet101 resnet152 densenet121 densenet161 densenet169 inception_v3 mobilenet_v1 mobilenet_v2' -- "$cur") ) ;;
    fetch)
      if [[ "$cur" == -* ]]; then COMPREPLY=( $(compgen -W '--help' -- "$cur") ); return; fi
      COMPREPLY=( $(compgen -f -X '!*.tlr' -- "$cur") $(compgen -d -- "$cur") ) ;;
    pack)
      case "$prev" in
        --out) COMPREPLY=( $(compgen -d -- "$cur") ); return ;;
        --shard-size) COMPREPLY=(); return ;;
        --index) COMPREPLY=( $(compgen -d -- "$cur") ); return ;;
      esac
      if [[ "$cur" == -* ]]; then COMPREPLY=( $(compgen -W '--out --shard-size --force --index --help' -- "$cur") ); return; fi
      COMPREPLY=( $(compgen -d -- "$cur") ) ;;
    run)
      case "$prev" in
        --resume) COMPREPLY=( $(compgen -d -- "$cur") ); return ;;
        --engine) COMPREPLY=( $(compgen -W 'tfjs torch' -- "$cur") ); return ;;
        --backend) COMPREPLY=(); return ;;
        --nproc) COMPREPLY=(); return ;;
        --device) COMPREPLY=( $(compgen -W 'cpu cuda' -- "$cur") ); return ;;
        --workers) COMPREPLY=(); return ;;
        --nnodes) COMPREPLY=(); return ;;
        --node-rank) COMPREPLY=(); return ;;
        --master-addr) COMPREPLY=(); return ;;
        --master-port) COMPREPLY=(); return ;;
      esac
      if [[ "$cur" == -* ]]; then COMPREPLY=( $(compgen -W '--json --resume --watch --engine --backend --nproc --device --amp --workers --nnodes --node-rank --master-addr --master-port --help' -- "$cur") ); return; fi
      COMPREPLY=( $(compgen -f -X '!*.tlr' -- "$cur") $(compgen -d -- "$cur") ) ;;
    watch)
      case "$prev" in
        --engine) COMPREPLY=( $(compgen -W 'tfjs torch' -- "$cur") ); return ;;
        --backend) COMPREPLY=(); return ;;
        --nproc) COMPREPLY=(); return ;;
        --device) COMPREPLY=( $(compgen -W 'cpu cuda' -- "$cur") ); return ;;
        --workers) COMPREPLY=(); return ;;
        --nnodes) COMPREPLY=(); return ;;
        --node-rank) COMPREPLY=(); return ;;
        --master-addr) COMPREPLY=(); return ;;
        --master-port) COMPREPLY=(); return ;;
      esac
      if [[ "$cur" == -* ]]; then COMPREPLY=( $(compgen -W '--json --engine --backend --nproc --device --amp --workers --nnodes --node-rank --master-addr --master-port --help' -- "$cur") ); return; fi
      COMPREPLY=( $(compgen -f -X '!*.tlr' -- "$cur") $(compgen -d -- "$cur") ) ;;
    lr-find)
      case "$prev" in
        --stage) COMPREPLY=(); return ;;
        --steps) COMPREPLY=(); return ;;
      esac
      if [[ "$cur" == -* ]]; then COMPREPLY=( $(compgen -W '--stage --write --steps --json --help' -- "$cur") ); return; fi
      COMPREPLY=( $(compgen -f -X '!*.tlr' -- "$cur") $(compgen -d -- "$cur") ) ;;
    predict)
      case "$prev" in
        --top) COMPREPLY=(); return ;;
        --backend) COMPREPLY=(); return ;;
      esac
      if [[ "$cur" == -* ]]; then COMPREPLY=( $(compgen -W '--top --json --csv --backend --int8 --help' -- "$cur") ); return; fi
      COMPREPLY=( $(compgen -f -- "$cur") ) ;;
    eval)
      case "$prev" in
        --backend) COMPREPLY=(); return ;;
      esac
      if [[ "$cur" == -* ]]; then COMPREPLY=( $(compgen -W '--json --backend --int8 --help' -- "$cur") ); return; fi
      COMPREPLY=( $(compgen -d -- "$cur") ) ;;
    export)
      case "$prev" in
        --format) COMPREPLY=( $(compgen -W 'onnx tfjs' -- "$cur") ); return ;;
        --out) COMPREPLY=( $(compgen -f -- "$cur") ); return ;;
        --gate) COMPREPLY=(); return ;;
        --calibration) COMPREPLY=(); return ;;
        --torchrun) COMPREPLY=( $(compgen -d -- "$cur") ); return ;;
        --nproc) COMPREPLY=(); return ;;
      esac
      if [[ "$cur" == -* ]]; then COMPREPLY=( $(compgen -W '--format --out --softmax --force --int8 --gate --calibration --torchrun --nproc --help' -- "$cur") ); return; fi
      COMPREPLY=( $(compgen -f -- "$cur") ) ;;
    doctor)
      if [[ "$cur" == -* ]]; then COMPREPLY=( $(compgen -W '--calibrate --help' -- "$cur") ); return; fi
      COMPREPLY=() ;;
    compare)
      case "$prev" in
        --by) COMPREPLY=(); return ;;
        --out) COMPREPLY=( $(compgen -d -- "$cur") ); return ;;
      esac
      if [[ "$cur" == -* ]]; then COMPREPLY=( $(compgen -W '--by --out --json --help' -- "$cur") ); return; fi
      COMPREPLY=( $(compgen -d -- "$cur") ) ;;
    report)
      if [[ "$cur" == -* ]]; then COMPREPLY=( $(compgen -W '--help' -- "$cur") ); return; fi
      COMPREPLY=( $(compgen -d -- "$cur") ) ;;
    serve)
      case "$prev" in
        --host) COMPREPLY=(); return ;;
        --port) COMPREPLY=(); return ;;
        --max-batch) COMPREPLY=(); return ;;
        --max-delay) COMPREPLY=(); return ;;
        --max-concurrency) COMPREPLY=(); return ;;
        --max-queue) COMPREPLY=(); return ;;
        --max-body) COMPREPLY=(); return ;;
        --max-pixels) COMPREPLY=(); return ;;
        --decode-threads) COMPREPLY=(); return ;;
        --timeout) COMPREPLY=(); return ;;
        --access-log) COMPREPLY=( $(compgen -f -- "$cur") ); return ;;
        --backend) COMPREPLY=(); return ;;
      esac
      if [[ "$cur" == -* ]]; then COMPREPLY=( $(compgen -W '--host --port --max-batch --max-delay --max-concurrency --max-queue --max-body --max-pixels --decode-threads --timeout --access-log --backend --help' -- "$cur") ); return; fi
      COMPREPLY=( $(compgen -d -- "$cur") ) ;;
    completion)
      if [[ "$cur" == -* ]]; then COMPREPLY=( $(compgen -W '--help' -- "$cur") ); return; fi
      COMPREPLY=() ;;
  esac
}
complete -o filenames -F _tlr tlr
