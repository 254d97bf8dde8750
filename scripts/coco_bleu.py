"""COCO captions under Texygen's BLEU protocol: nltk word tokens, the first 500 test captions as the
references of every hypothesis, sentence BLEU with smoothing method 1, the mean over hypotheses.
Also scores against all test captions, and real training captions the same way (the ceiling).

    python scripts/coco_bleu.py RUN_DIR [--hyps 1000] [--seed 0]
"""
import argparse
import json

import torch

from seqgan_core.data.corpora import caption_tokens, fetch, read_lines
from seqgan_core.metrics.bleu import BleuScorer
from seqgan_core.runs.inspect import load_trainer


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("run_dir")
    ap.add_argument("--hyps", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    tr = load_trainer(args.run_dir)
    torch.manual_seed(args.seed)
    ids = tr.gen.eval().sample(args.hyps, tr.ds.seq_len, tr.cfg.generator.temperature)
    hyps = [tr.ds.tokens(r) for r in ids.tolist()]
    test = [caption_tokens(line) for line in read_lines(fetch("coco_captions_test.txt"))]
    train = [caption_tokens(line) for line in read_lines(fetch("coco_captions_train.txt"))]
    real = train[-args.hyps:]          # real captions, scored as if generated
    out = {"run": args.run_dir, "hypotheses": len(hyps), "epochs": tr.pos.step}
    for refs_name, refs in (("first500", test[:500]), ("all_test", test)):
        scorer = BleuScorer(refs, max_n=5)
        for who, h in (("mle", hyps), ("real", real)):
            for n, v in scorer.scores(h, (2, 3, 4, 5)).items():
                out[f"{who}_{refs_name}_bleu{n}"] = round(v, 4)
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
