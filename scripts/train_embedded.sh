#!/usr/bin/env bash
# Reproduce the embedded models in resources/models/: mel_2bar, drums_2bar, trio_16bar, and the
# sequence models for continue and infill, seq_transformer and seq_lstm.
#
#   scripts/train_embedded.sh                 # all of them, one after the other
#   scripts/train_embedded.sh mel_2bar        # one of them
#
# Each model is trained into $RUNS/<name>/ (checkpoints every 1000 steps; running the script
# again resumes from the newest one), stored as float16, evaluated (model-card.json) and copied
# with its card into $DEST/<name>/ (model.json, weights.npz, model-card.json; prior.npz for
# the trio).
#
# Environment:
#   PY      python to use (default .venv/bin/python)
#   RUNS    work folder (default runs)
#   DEST    where the finished models go (default resources/models; empty: do not copy)
#   STEPS   train every model to this many steps instead of its own count (a speed trial:
#           STEPS=50 DEST= RUNS=/tmp/trial scripts/train_embedded.sh mel_2bar)
#   CARD    0 skips the model card (speed trials)
#   DEVICE  cpu or gpu (default: the GPU when TensorFlow sees one)
#   LIMIT_FILES  read at most this many corpus files (speed trials; not for the real models)
#   (RUN_DIR, set inside this script: a phase's folder under $RUNS when it is not <name>;
#    PRIOR=1, also set inside: fit the model's code prior, prior.npz, before its card;
#    CARD_SAMPLES: samples for the card, 256 unless set inside)
#
# The first run parses the music21 corpus (about 35-40 minutes on 2 cores, cached afterwards
# under the cache folder; LATENT_STUDIO_CACHE moves it).
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PY:-.venv/bin/python}
RUNS=${RUNS:-runs}
DEST=${DEST-resources/models}
CARD=${CARD:-1}
COMMON_ARGS=()
if [ -n "${DEVICE:-}" ]; then COMMON_ARGS=(--device "$DEVICE"); fi
if [ -n "${LIMIT_FILES:-}" ]; then COMMON_ARGS+=(--limit-files "$LIMIT_FILES"); fi

# name | config | data | data options | sizes (enc dec z) | steps | batch | extra train options
train_one() {
    local name=$1 config=$2 data=$3 enc=$5 dec=$6 z=$7 steps=$8 batch=$9
    local data_opts=()
    read -r -a data_opts <<< "$4"
    shift 9
    steps=${STEPS:-$steps}
    local out="$RUNS/${RUN_DIR:-$name}"
    echo "== $name: $config on $data, enc [$enc] dec [$dec] z $z, $steps steps of $batch"
    "$PY" main.py train --config "$config" --data "$data" "${data_opts[@]}" --out "$out" --name "$name" \
        --sizes custom --enc "$enc" --dec "$dec" --z "$z" --steps "$steps" --batch "$batch" \
        --checkpoint-every 1000 --eval-every 1000 --keep 3 --float16 --resume "${COMMON_ARGS[@]}" "$@"
    if [ "${PRIOR:-0}" != 0 ]; then  # fit the Gaussian its codes fill; samples then come from it
        "$PY" main.py code-prior "$out" --data "$data" "${data_opts[@]}" --windows 4096 "${COMMON_ARGS[@]}"
    fi
    if [ "$CARD" != 0 ]; then
        "$PY" main.py model-card "$out" --data "$data" "${data_opts[@]}" --samples "${CARD_SAMPLES:-256}" --temperature 0.5 "${COMMON_ARGS[@]}"
    fi
    if [ -n "$DEST" ]; then
        mkdir -p "$DEST/$name"
        rm -f "$DEST/$name/prior.npz"
        for f in model.json weights.npz prior.npz model-card.json; do
            if [ -f "$out/$f" ]; then cp "$out/$f" "$DEST/$name/$f"; fi
        done
        echo "== $name copied to $DEST/$name"
    fi
}

mel_2bar() {
    # Three phases, Magenta's cat-mel_2bar_small KL settings (free bits 0, max beta 0.2) but a
    # 10x faster KL annealing (beta rate 0.9999: beta reaches 75% of its maximum by step 14,000):
    # 1. teacher forcing, 7,000 steps on Ryan's Mammoth Collection and the Bach chorale
    #    sopranos (the two collections that parse quickly: about 15 minutes, then cached);
    #    held-out free-running accuracy levelled off (0.820 at 6,000 steps, 0.823 at 7,000);
    # 2. scheduled sampling (each step reads the model's own previous choice with probability
    #    0.3) to 14,000 steps: free-running 0.870, samples' pitch range 27 -> 16 semitones;
    # 3. the same on the whole folk corpus and the chorales (O'Neill's and Essen added: 54,071
    #    training windows instead of 13,067) to 23,000 steps, a new run started from phase 2's
    #    checkpoint (--init-from): free-running 0.915, 91% of sampled notes in key.
    # See docs/training.md.
    CARD=0 DEST= train_one mel_2bar cat-mel_2bar_small corpus:ryans,chorales "" 256 256,256 128 7000 64 \
        --beta-rate 0.9999
    CARD=0 DEST= train_one mel_2bar cat-mel_2bar_small corpus:ryans,chorales "" 256 256,256 128 14000 64 \
        --beta-rate 0.9999 --sampling constant --sampling-rate 0.3
    RUN_DIR=mel_2bar_full train_one mel_2bar cat-mel_2bar_small corpus "" 256 256,256 128 23000 64 \
        --beta-rate 0.9999 --sampling constant --sampling-rate 0.3 --init-from "$RUNS/mel_2bar"
}

drums_2bar() {
    # the genre drum-pattern generator, 200 sixteen-bar sequences per genre; Magenta's
    # cat-drums_2bar_small KL settings (free bits 48, max beta 0.2)
    train_one drums_2bar cat-drums_2bar_small corpus:drums "--drum-sequences 200" 256 256,256 128 20000 64
}

trio_16bar() {
    # folk and chorale tunes with their (implied) bass and generated drums. Magenta's trio has
    # z 512 and 256 free bits; this one has z 128 and a faster KL annealing (beta rate 0.999)
    # because it gets a few thousand steps, not Magenta's hundreds of thousands. Four phases,
    # each a new run from the one before (docs/training.md has the numbers of each):
    # 1. teacher forcing, 64 free bits, to step 3,107 (about 1.2 s a step at batch 32 on 2 cores);
    # 2. scheduled sampling (p = 0.3, about 1.7 s a step) to 5,000: free-running accuracy and
    #    notes in key rose, the melody thinned out;
    # 3. the same with 256 free bits (Magenta's value) to 5,500: the KL rose from 66 to about 240
    #    bits within 500 steps and the melody got denser;
    # 4. teacher forcing again (about 1.3 s a step), 256 free bits, to 12,000: scheduled sampling
    #    seems to teach the melody core to go on holding after a missed note. Then the code prior:
    #    the KL ends just under the free bits, nothing holds the codes to N(0, I), so samples draw
    #    from the Gaussian the codes fill (core/musicvae/code_prior.py).
    CARD=0 DEST= train_one trio_16bar hierdec-trio_16bar corpus:trio "" 128,128 128,128 128 3107 32 \
        --free-bits 64 --beta-rate 0.999
    CARD=0 DEST= RUN_DIR=trio_16bar_ss train_one trio_16bar hierdec-trio_16bar corpus:trio "" 128,128 128,128 128 \
        5000 32 --free-bits 64 --beta-rate 0.999 --sampling constant --sampling-rate 0.3 --init-from "$RUNS/trio_16bar" \
        --checkpoint-every 250 --eval-every 250 --eval-examples 256
    CARD=0 DEST= RUN_DIR=trio_16bar_fb256 train_one trio_16bar hierdec-trio_16bar corpus:trio "" 128,128 128,128 128 \
        5500 32 --free-bits 256 --beta-rate 0.999 --sampling constant --sampling-rate 0.3 \
        --init-from "$RUNS/trio_16bar_ss" --checkpoint-every 250 --eval-every 250 --eval-examples 256
    PRIOR=1 CARD_SAMPLES=1024 RUN_DIR=trio_16bar_tf256 train_one trio_16bar hierdec-trio_16bar corpus:trio "" 128,128 128,128 128 \
        12000 32 --free-bits 256 --beta-rate 0.999 --init-from "$RUNS/trio_16bar_fb256" \
        --checkpoint-every 250 --eval-every 250 --eval-examples 256
}

# Sequence models (docs/sequence-models.md): a wall-time budget, not a step count, is what they
# got: 90 minutes each, both at once on 2 shared CPU cores at nice 19 (2026-12-04). The
# learning rate's cosine decay follows the budget. Ryan's Mammoth Collection and the chorales only
# (the collections that parse quickly). A run that has checkpoints goes on from the newest.
seq_one() {
    local name=$1 arch=$2 sizes=$3 out="$RUNS/$1"
    local resume=()
    if ls "$out"/checkpoints/step-*.npz >/dev/null 2>&1; then resume=(--resume); fi
    nice -n 19 "$PY" main.py train-seq --arch "$arch" --out "$out" --name "$name" --steps "${STEPS:-5000}" \
        --minutes "${MINUTES:-90}" --batch 8 --collections ryans,chorales --size "$sizes" \
        --checkpoint-every 50 --eval-every 50 "${resume[@]}"
    if [ -n "$DEST" ]; then
        mkdir -p "$DEST/$name"
        for f in model.json weights.npz; do cp "$out/$f" "$DEST/$name/$f"; done
        echo "== $name copied to $DEST/$name (its MODEL_CARD.md and model-card.json are written by hand"
        echo "   from benchmarks/bench_seq.py's numbers)"
    fi
}

seq_transformer() {
    seq_one seq_transformer transformer d_model=128,layers=4,heads=4,d_ff=512,max_len=512
}

seq_lstm() {
    seq_one seq_lstm lstm units=256,layers=2,d_embed=128,max_len=512
}

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then targets=(mel_2bar drums_2bar trio_16bar seq_transformer seq_lstm); fi
for t in "${targets[@]}"; do
    case "$t" in
        mel_2bar|drums_2bar|trio_16bar|seq_transformer|seq_lstm) "$t" ;;
        *) echo "unknown model $t (expected mel_2bar, drums_2bar, trio_16bar, seq_transformer or seq_lstm)" >&2; exit 2 ;;
    esac
done
